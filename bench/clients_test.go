//go:build linux

package main_test

import (
	"context"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// TestClientsSmoke runs a tiny client comparison (both load generators
// against gnet and whirl) through child processes and checks correctness
// and that each client measured its own CPU time; speed is never judged.
func TestClientsSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	scenarios := []harness.Scenario{
		{Name: "pingpong", Title: "64 B ping-pong, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 64, Depth: 1},
		{Name: "pipelined", Title: "4 KiB pipelined 8 deep, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 4096, Depth: 8},
	}
	kinds := []string{servers.Gnet, servers.Whirl}
	rep, err := harness.RunClients(ctx, harness.ClientsConfig{
		Config: harness.Config{
			Servers: kinds, Scenarios: scenarios, Rounds: 1,
			Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
			Loops: 1, ClientLoops: 2, Self: self(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures {
		t.Errorf("failed: %s", f)
	}
	for _, c := range rep.Cells {
		if len(c.Rounds) != 1 {
			t.Errorf("%s / %s / %s: %d rounds, want 1", c.Scenario, c.Server, c.Client, len(c.Rounds))
			continue
		}
		r := c.Rounds[0].Client
		if !r.OK() || r.Client != c.Client {
			t.Errorf("%s / %s / %s: %+v", c.Scenario, c.Server, c.Client, r)
		}
		if r.ClientCPU <= 0 || c.Summary == nil || c.Summary.ClientCPUPerMsg.Median <= 0 {
			t.Errorf("%s / %s / %s: client CPU not measured (%v)", c.Scenario, c.Server, c.Client, r.ClientCPU)
		}
	}
	if got, want := len(rep.Ratios), len(scenarios)*len(kinds); got != want {
		t.Errorf("%d ratios, want %d", got, want)
	}
	for _, r := range rep.Ratios {
		if r.Client != loadgen.ClientWhirl || r.Against != loadgen.ClientGoroutine || r.Rate.Median <= 0 || r.ClientCPUPerMsg.Median <= 0 {
			t.Errorf("ratio %+v", r)
		}
	}
}

// TestSmokeWhirlClient runs the main matrix's echo scenarios with
// --client whirl's setting: the echo cells use the whirl client, the setup
// cell the goroutine one.
func TestSmokeWhirlClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := harness.Run(ctx, harness.Config{
		Servers: []string{servers.Gnet, servers.Whirl},
		Scenarios: []harness.Scenario{
			{Name: "pingpong", Title: "64 B ping-pong, 10 connections", Mode: harness.ModeEcho, Conns: 10, Size: 64, Depth: 1},
			{Name: "setup", Title: "connection setup, 2 at a time", Mode: harness.ModeSetup, Conns: 2, Size: 64},
		},
		Rounds: 1, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
		Loops: 1, Client: loadgen.ClientWhirl, Self: self(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Failures {
		t.Errorf("failed: %s", f)
	}
	for _, c := range rep.Cells {
		if len(c.Rounds) != 1 {
			continue
		}
		want := loadgen.ClientWhirl
		if c.Scenario == "setup" {
			want = loadgen.ClientGoroutine
		}
		if got := c.Rounds[0].Client.Client; got != want {
			t.Errorf("%s / %s: client %q, want %q", c.Scenario, c.Server, got, want)
		}
	}
	if rep.Settings.Client != loadgen.ClientWhirl {
		t.Errorf("Settings.Client = %q, want whirl", rep.Settings.Client)
	}
}
