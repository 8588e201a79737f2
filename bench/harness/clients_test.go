package harness_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/loadgen"
)

func clientRound(perSec float64, cpuPerMsg time.Duration) harness.Round {
	const msgs = 1000
	return harness.Round{
		Client: loadgen.Result{
			Messages: msgs, PerSec: perSec, Elapsed: time.Second, Verified: msgs,
			ClientCPU: cpuPerMsg * msgs, ClientMallocs: 10,
		},
		ServerCPU: 5 * time.Microsecond * msgs,
	}
}

func TestClientsReportRatios(t *testing.T) {
	sc := harness.Scenario{Name: "pp", Title: "ping-pong", Mode: harness.ModeEcho, Conns: 10, Size: 64, Depth: 1}
	rep := &harness.ClientsReport{
		Servers: []string{"gnet"}, Clients: []string{loadgen.ClientGoroutine, loadgen.ClientWhirl},
		Scenarios: []harness.Scenario{sc},
		Cells: []*harness.ClientCell{
			{Scenario: "pp", Server: "gnet", Client: loadgen.ClientGoroutine, Rounds: []harness.Round{
				clientRound(100, 10*time.Microsecond), clientRound(200, 8*time.Microsecond), clientRound(150, 9*time.Microsecond),
			}},
			{Scenario: "pp", Server: "gnet", Client: loadgen.ClientWhirl, Rounds: []harness.Round{
				clientRound(120, 5*time.Microsecond), clientRound(200, 4*time.Microsecond), {Err: "correctness: 1 mismatched echoes"},
			}},
		},
	}
	harness.SummarizeClients(rep)
	if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0], "whirl client / round 3") {
		t.Errorf("Failures = %q", rep.Failures)
	}
	w := rep.Cells[1].Summary
	if w == nil || w.Rounds != 2 || w.Rate.Median != 160 || w.ClientCPUPerMsg.Median != 4500 || math.Abs(w.ClientBusy-0.0045) > 1e-9 || w.ClientAllocsPerMsg != 0.01 {
		t.Fatalf("whirl summary = %+v", w)
	}
	if len(rep.Ratios) != 1 {
		t.Fatalf("Ratios = %+v", rep.Ratios)
	}
	r := rep.Ratios[0]
	// Medians: goroutine 150 msgs/s and 9 µs, whirl 160 and 4.5 µs.
	// Rounds: 1.2 and 1.0 msgs/s, 0.5 and 0.5 CPU (round 3 failed).
	if r.Rate.Median != 160.0/150 || r.Rate.Min != 1 || r.Rate.Max != 1.2 || math.Abs(r.RoundMedians[0]-1.1) > 1e-9 {
		t.Errorf("rate ratio = %+v, round median %v", r.Rate, r.RoundMedians[0])
	}
	if r.ClientCPUPerMsg.Median != 0.5 || r.ClientCPUPerMsg.Min != 0.5 || r.ClientCPUPerMsg.Max != 0.5 {
		t.Errorf("client CPU ratio = %+v", r.ClientCPUPerMsg)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| gnet | whirl | 160 |", "4.5µs", "whirl ÷ goroutine | 1.07 (1.10; 1.00–1.20) | 0.50 (0.50; 0.50–0.50)", "#### Failures"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestClientFlags(t *testing.T) {
	for _, args := range [][]string{
		{"client", "--client", "whirl", "--mode", "setup", "--addr", "127.0.0.1:1"},
		{"client", "--client", "whirl", "--mode", "idle", "--addr", "127.0.0.1:1"},
		{"client", "--client", "threads", "--addr", "127.0.0.1:1"},
		{"run", "--client", "threads"},
		{"clients", "--servers", "python-twisted"},
		{"clients", "--scenarios", "setup"},
	} {
		var out, errb strings.Builder
		if code := harness.Main(t.Context(), harness.Command{Path: "/nonexistent"}, args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("bench %q: exit status %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}
