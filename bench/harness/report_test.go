package harness_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/loadgen"
)

var (
	pp   = harness.Scenario{Name: "pp", Title: "64 B ping-pong", Mode: harness.ModeEcho, Conns: 100, Size: 64, Depth: 1}
	pipe = harness.Scenario{Name: "pipe", Title: "4 KiB pipelined", Mode: harness.ModeEcho, Conns: 100, Size: 4096, Depth: 8}
	idle = harness.Scenario{Name: "idle", Title: "idle memory", Mode: harness.ModeIdle, Conns: 1000, Size: 64}
)

// echoRound is a successful echo round at rate messages per second over 1 s.
func echoRound(rate float64, mallocs int64) harness.Round {
	m := mallocs
	return harness.Round{
		Client: loadgen.Result{
			Mode: "echo", Conns: 100, Size: 64, Elapsed: time.Second,
			Messages: int64(rate), PerSec: rate, Verified: int64(rate),
			P50: time.Millisecond, P99: 2 * time.Millisecond, P999: 3 * time.Millisecond,
		},
		ServerCPU:     time.Duration(rate) * 5 * time.Microsecond,
		ServerMallocs: &m,
	}
}

// withCPU makes the server of r spend perMsg µs of CPU per message.
func withCPU(r harness.Round, perMsg int) harness.Round {
	r.ServerCPU = time.Duration(r.Client.Messages) * time.Duration(perMsg) * time.Microsecond
	return r
}

// idleRound is an idle round where the server grew by perConn bytes per
// connection.
func idleRound(perConn int64) harness.Round {
	return harness.Round{
		Client:    loadgen.Result{Mode: "idle", Conns: 1000, Size: 64, Messages: 1000, Verified: 1000},
		RSSBefore: 10 << 20, RSSAfter: 10<<20 + 1000*perConn,
	}
}

func testReport() *harness.Report {
	return &harness.Report{
		Servers:   []string{"gnet", "whirl", "stdlib"},
		Scenarios: []harness.Scenario{pp, pipe, idle},
		Cells: []*harness.Cell{
			{Scenario: "pp", Server: "gnet", Rounds: []harness.Round{echoRound(100e3, 0), echoRound(110e3, 0), echoRound(90e3, 0)}},
			{Scenario: "pp", Server: "whirl", Rounds: []harness.Round{withCPU(echoRound(99e3, 0), 6), withCPU(echoRound(100e3, 0), 6), withCPU(echoRound(90e3, 0), 7)}},
			{Scenario: "pp", Server: "stdlib", Rounds: []harness.Round{echoRound(50e3, 100), {Err: "correctness: 1 mismatched echoes"}, echoRound(60e3, 100)}},
			{Scenario: "pipe", Server: "gnet", Rounds: []harness.Round{echoRound(400e3, 0), echoRound(400e3, 0), echoRound(400e3, 0)}},
			{Scenario: "pipe", Server: "whirl", Rounds: []harness.Round{echoRound(300e3, 0), echoRound(340e3, 0), echoRound(350e3, 0)}},
			{Scenario: "pipe", Server: "stdlib", Rounds: []harness.Round{echoRound(200e3, 0), echoRound(200e3, 0), echoRound(200e3, 0)}},
			{Scenario: "idle", Server: "gnet", Rounds: []harness.Round{idleRound(2000), idleRound(2100), idleRound(1900)}},
			{Scenario: "idle", Server: "whirl", Rounds: []harness.Round{idleRound(2300), idleRound(2400), idleRound(2200)}},
			{Scenario: "idle", Server: "stdlib", Rounds: []harness.Round{idleRound(9000), idleRound(9000), idleRound(9000)}},
		},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestSummarize(t *testing.T) {
	rep := testReport()
	harness.Summarize(rep)

	tests := []struct {
		scenario, server                 string
		rounds                           int
		median, lo, hi                   float64
		ratio, ratioLo, ratioHi, allocsP float64
	}{
		{"pp", "gnet", 3, 100e3, 90e3, 110e3, 1, 1, 1, 0},
		{"pp", "whirl", 3, 99e3, 90e3, 100e3, 0.99, 100.0 / 110, 1, 0},
		{"pp", "stdlib", 2, 55e3, 50e3, 60e3, 0.55, 0.5, 60.0 / 90, (100/50e3 + 100/60e3) / 2},
		{"pipe", "whirl", 3, 340e3, 300e3, 350e3, 0.85, 0.75, 0.875, 0},
		{"idle", "whirl", 3, 2300, 2200, 2400, 1.15, 2400.0 / 2100, 2200.0 / 1900, -1},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+"/"+tt.server, func(t *testing.T) {
			s := rep.Cell(tt.scenario, tt.server).Summary
			if s == nil {
				t.Fatal("no summary")
			}
			if s.Rounds != tt.rounds {
				t.Errorf("Rounds = %d, want %d", s.Rounds, tt.rounds)
			}
			if !near(s.Rate.Median, tt.median) || !near(s.Rate.Min, tt.lo) || !near(s.Rate.Max, tt.hi) {
				t.Errorf("Rate = %+v, want median %v, min %v, max %v", s.Rate, tt.median, tt.lo, tt.hi)
			}
			if s.Ratio == nil {
				t.Fatal("no ratio")
			}
			if !near(s.Ratio.Median, tt.ratio) || !near(s.Ratio.Min, tt.ratioLo) || !near(s.Ratio.Max, tt.ratioHi) {
				t.Errorf("Ratio = %+v, want median %v, min %v, max %v", *s.Ratio, tt.ratio, tt.ratioLo, tt.ratioHi)
			}
			if tt.allocsP >= 0 {
				if s.AllocsPerMsg == nil || !near(*s.AllocsPerMsg, tt.allocsP) {
					t.Errorf("AllocsPerMsg = %v, want %v", deref(s.AllocsPerMsg), tt.allocsP)
				}
			}
		})
	}
	if r := rep.Cell("pp", "whirl").Summary.CPURatio; r == nil || !near(*r, 6.0/5) {
		t.Errorf("CPURatio of pp/whirl = %v, want 1.2 (6 µs against gnet's 5 µs per message)", deref(r))
	}
	if got := len(rep.Failures); got != 1 || !strings.Contains(rep.Failures[0], "pp / stdlib / round 2") {
		t.Errorf("Failures = %q, want the one failed round", rep.Failures)
	}
	if rep.OK() {
		t.Error("OK() = true with a failed round")
	}

	want := map[string]bool{
		"whirl echo msgs/s ÷ gnet's, 64 B ping-pong":                          true,  // 0.99 ≥ 0.95
		"whirl echo msgs/s ÷ gnet's, 4 KiB pipelined":                         false, // 0.85 < 0.9
		"whirl RSS per idle connection ÷ gnet's, idle memory":                 false, // 1.15 > 1.0
		"whirl echo server CPU per message ÷ gnet's, 64 B ping-pong":          false, // 1.2 > 1.0
		"whirl RSS per idle connection ÷ the standard library's, idle memory": true,
		"whirl server heap allocations per message, 64 B ping-pong":           true,
	}
	found := 0
	for _, tg := range rep.Targets {
		if met, ok := want[tg.What]; ok {
			found++
			if tg.Met != met {
				t.Errorf("target %q: Met = %v (got %.3f), want %v", tg.What, tg.Met, tg.Got, met)
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d expected targets in %+v", found, len(want), rep.Targets)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestWriteOutputs(t *testing.T) {
	rep := testReport()
	harness.Summarize(rep)

	var svg bytes.Buffer
	if err := rep.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back harness.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON does not read back: %v", err)
	}
	for _, s := range []string{"gnet", "whirl", "stdlib", "64 B ping-pong", "idle memory"} {
		if !strings.Contains(svg.String(), s) {
			t.Errorf("SVG does not mention %q", s)
		}
		if !strings.Contains(table.String(), s) {
			t.Errorf("table does not mention %q", s)
		}
	}
	for _, s := range []string{"| whirl | 99.0k | 90.0k–100.0k | 0.99 (0.91–1.00) |", "**missed**", "pp / stdlib / round 2"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table does not contain %q:\n%s", s, table.String())
		}
	}
	if got := len(back.Cells); got != len(rep.Cells) {
		t.Errorf("JSON has %d cells, want %d", got, len(rep.Cells))
	}

	// bench report reads it back and prints the same table.
	path := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(path, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var again, errw bytes.Buffer
	if code := harness.Main(t.Context(), harness.Command{Path: os.Args[0]}, []string{"report", "--in", path}, strings.NewReader(""), &again, &errw); code != 0 {
		t.Fatalf("bench report = %d: %s", code, errw.String())
	}
	if again.String() != table.String() {
		t.Errorf("bench report printed\n%s\nwant\n%s", again.String(), table.String())
	}
}

func TestMainUsage(t *testing.T) {
	self := harness.Command{Path: os.Args[0]}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"-h"}, 0},
		{"bad flag", []string{"--no-such-flag"}, 2},
		{"unknown server", []string{"--servers", "gnet,nginx"}, 2},
		{"unknown scenario", []string{"--scenarios", "pp-9000"}, 2},
		{"stray argument", []string{"run", "extra"}, 2},
		{"server: unknown kind", []string{"server", "--kind", "nginx"}, 2},
		{"client: unknown mode", []string{"client", "--mode", "bogus", "--addr", "127.0.0.1:1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			got := harness.Main(t.Context(), self, tt.args, strings.NewReader(""), &out, &errw)
			if got != tt.want {
				t.Errorf("Main(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, errw.String())
			}
		})
	}
}
