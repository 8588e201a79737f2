//go:build linux

package main_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/python"
	"github.com/whirl-go/whirl/bench/servers"
)

// childEnv makes the test binary act as the bench command: the harness
// starts its server and client processes by running this binary again.
const childEnv = "WHIRL_BENCH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(harness.Main(context.Background(), self(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func self() harness.Command {
	// A race-enabled binary sleeps a second at exit by default; the
	// harness starts two per cell.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return harness.Command{Path: os.Args[0], Env: []string{childEnv + "=1", "GORACE=" + gorace}}
}

// smoke runs a tiny matrix and checks correctness only: every echo right,
// every connection answered, every cell measured. Speed is never judged.
func smoke(t *testing.T, kinds []string, scenarios []harness.Scenario, py string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := harness.Run(ctx, harness.Config{
		Servers:   kinds,
		Scenarios: scenarios,
		Rounds:    1,
		Warmup:    50 * time.Millisecond,
		Duration:  200 * time.Millisecond,
		Settle:    50 * time.Millisecond,
		Loops:     2,
		Python:    py,
		Self:      self(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures {
		t.Errorf("failed: %s", f)
	}
	if len(rep.Skipped) > 0 {
		t.Errorf("skipped: %q", rep.Skipped)
	}
	for _, sc := range scenarios {
		for _, k := range kinds {
			if !harness.Fits(sc, k) {
				continue
			}
			c := rep.Cell(sc.Name, k)
			if c == nil || len(c.Rounds) != 1 {
				t.Errorf("%s / %s: no round", sc.Name, k)
				continue
			}
			r := c.Rounds[0].Client
			if !r.OK() || r.Mismatches != 0 {
				t.Errorf("%s / %s: %+v", sc.Name, k, r)
			}
			if c.Summary == nil || c.Summary.Rate.Median <= 0 && sc.Mode != harness.ModeIdle {
				t.Errorf("%s / %s: nothing measured", sc.Name, k)
			}
		}
	}
}

func TestSmoke(t *testing.T) {
	scenarios := []harness.Scenario{
		{Name: "pingpong", Title: "64 B ping-pong, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 64, Depth: 1},
		{Name: "pipelined", Title: "4 KiB pipelined 8 deep, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 4096, Depth: 8},
		{Name: "setup", Title: "connection setup, 2 at a time", Mode: harness.ModeSetup, Conns: 2, Size: 64},
		{Name: "idle", Title: "idle memory, 100 connections", Mode: harness.ModeIdle, Conns: 100, Size: 64},
	}
	if testing.Short() {
		scenarios = scenarios[:1]
	}
	var kinds []string
	for _, k := range servers.Kinds() {
		if servers.Family(k) == servers.FamilyEcho {
			kinds = append(kinds, k)
		}
	}
	smoke(t, kinds, scenarios, "")
}

// TestSmokeUDP runs the UDP servers under a UDP scenario, and checks that
// the harness leaves out the cells where server and scenario do not fit.
func TestSmokeUDP(t *testing.T) {
	smoke(t, harness.UDPServers(), []harness.Scenario{
		{Name: "udp", Title: "UDP 64 B, 4 in flight, 4 sockets", Mode: harness.ModeUDP, Conns: 4, Size: 64, Depth: 4},
	}, "")
}

// TestSmokePython runs the Python servers through the same harness when the
// system's interpreter has Twisted and Tornado; CI does not need them.
func TestSmokePython(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := exec.LookPath(py); err != nil {
		t.Skip("no " + py)
	}
	var kinds []string
	for _, s := range python.Servers {
		if _, err := s.Version(t.Context(), py); err != nil {
			t.Logf("skipping %s: %v", s.Kind, err)
			continue
		}
		kinds = append(kinds, s.Kind)
	}
	if len(kinds) == 0 {
		t.Skip("the Python servers' modules are not installed")
	}
	smoke(t, kinds, []harness.Scenario{
		{Name: "pingpong", Title: "64 B ping-pong, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 64, Depth: 1},
	}, py)
}
