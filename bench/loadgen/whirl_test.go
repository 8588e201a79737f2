package loadgen_test

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
)

func TestRunWhirl(t *testing.T) {
	addr := server(t, echo(nil))
	tests := []struct {
		name               string
		conns, size, depth int
		loops              int
	}{
		{"ping-pong smallest", 3, loadgen.MinSize, 1, 1},
		{"ping-pong 64, two loops", 10, 64, 1, 2},
		{"pipelined 4 KiB", 4, 4096, 8, 1},
		{"pipelined odd size, two loops", 2, 1000, 3, 2},
		{"depth 0 is ping-pong", 2, 64, 0, 0},
		{"more than a read buffer in flight", 2, 40000, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var phases []loadgen.Phase
			res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
				Addr: addr, Conns: tt.conns, Size: tt.size, Depth: tt.depth, Loops: tt.loops,
				Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond,
				OnPhase: func(p loadgen.Phase) { phases = append(phases, p) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("result not OK: %+v", res)
			}
			// Not judged: how many. Checked: what was counted adds up.
			if res.Client != loadgen.ClientWhirl || res.Mode != "echo" || res.Conns != tt.conns || res.Depth != max(tt.depth, 1) {
				t.Errorf("result describes another run: %+v", res)
			}
			if res.Messages < 0 || res.Verified < res.Messages || res.Silent != 0 {
				t.Errorf("implausible counts: %+v", res)
			}
			if got, want := res.Bytes, res.Messages*int64(tt.size); got != want {
				t.Errorf("Bytes = %d, want %d", got, want)
			}
			if res.Messages > 0 && (res.PerSec <= 0 || res.P50 <= 0 || res.P99 < res.P50 || res.P999 < res.P99 || res.Max < res.P999) {
				t.Errorf("implausible latencies: %+v", res)
			}
			if res.Messages > 0 && res.ClientCPU <= 0 {
				t.Errorf("ClientCPU = %v, want the process's CPU time over the window", res.ClientCPU)
			}
			if got, want := phases, []loadgen.Phase{loadgen.PhaseMeasure, loadgen.PhaseEnd}; !equalPhases(got, want) {
				t.Errorf("phases = %v, want %v", got, want)
			}
		})
	}
}

func TestRunWhirlCatchesBadEchoes(t *testing.T) {
	for _, tt := range badEchoes() {
		t.Run(tt.name, func(t *testing.T) {
			addr := server(t, echo(tt.f))
			res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
				Addr: addr, Conns: 1, Size: 64, Depth: tt.depth,
				Duration: 100 * time.Millisecond, DrainTimeout: 200 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Mismatches + res.Errors; got != 1 {
				t.Errorf("Mismatches + Errors = %d, want 1 (result %+v)", got, res)
			}
			if res.OK() {
				t.Errorf("OK() = true for a server that corrupts its echo")
			}
			if !strings.Contains(res.FirstError, tt.want) {
				t.Errorf("FirstError = %q, want it to say %q", res.FirstError, tt.want)
			}
		})
	}
}

// TestRunWhirlCatchesMadeUpEchoes: a server that sends back more than it was
// sent (a whole extra copy of each message) is caught, and the client does
// not overrun its buffers.
func TestRunWhirlCatchesMadeUpEchoes(t *testing.T) {
	addr := server(t, echo(func(_ int, p []byte) []byte { return append(p, p...) }))
	res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
		Addr: addr, Conns: 2, Size: 64, Depth: 2, Duration: 100 * time.Millisecond, DrainTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches != 2 || res.OK() {
		t.Errorf("got Mismatches %d, OK %v; want 2, false (first error %q)", res.Mismatches, res.OK(), res.FirstError)
	}
}

func TestRunWhirlSilentServer(t *testing.T) {
	addr := server(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
		Addr: addr, Conns: 3, Size: 64, Duration: 50 * time.Millisecond, DrainTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Silent != 3 || res.Verified != 0 || res.OK() {
		t.Errorf("got Silent %d, Verified %d, OK %v; want 3, 0, false", res.Silent, res.Verified, res.OK())
	}
	if res.Errors != 3 || !strings.Contains(res.FirstError, "not echoed back in full") {
		t.Errorf("got Errors %d, FirstError %q; want 3, messages not echoed back", res.Errors, res.FirstError)
	}
}

func TestRunWhirlServerCloses(t *testing.T) {
	addr := server(t, func(c net.Conn) {
		buf := make([]byte, 64)
		_, _ = io.ReadFull(c, buf)
		_, _ = c.Write(buf)
	})
	res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
		Addr: addr, Conns: 2, Size: 64, Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 2 || res.OK() {
		t.Errorf("got Errors %d, OK %v; want 2, false (first error %q)", res.Errors, res.OK(), res.FirstError)
	}
	// The server closes with the client's second message unread, so the
	// client sees its FIN or, if that message arrived first, a reset.
	if !strings.Contains(res.FirstError, "unexpected EOF") && !strings.Contains(res.FirstError, "reset") {
		t.Errorf("FirstError = %q, want an unexpected EOF or a reset", res.FirstError)
	}
}

func TestRunWhirlDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = loadgen.RunWhirl(context.Background(), loadgen.Config{Addr: addr, Conns: 2, Size: 64, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "dial") {
		t.Fatalf("RunWhirl against a closed port: err = %v, want a dial error", err)
	}
}

func TestRunWhirlConfigErrors(t *testing.T) {
	for _, cfg := range []loadgen.Config{
		{Conns: 1, Size: 64, Duration: time.Second},
		{Addr: "127.0.0.1:1", Size: 64, Duration: time.Second},
		{Addr: "127.0.0.1:1", Conns: 1, Size: loadgen.MinSize - 1, Duration: time.Second},
		{Addr: "127.0.0.1:1", Conns: 1, Size: 64, Depth: -1, Duration: time.Second},
		{Addr: "127.0.0.1:1", Conns: 1, Size: 64},
	} {
		if _, err := loadgen.RunWhirl(context.Background(), cfg); !errors.Is(err, loadgen.ErrConfig) {
			t.Errorf("RunWhirl(%+v): err = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestRunWhirlContextCancel(t *testing.T) {
	addr := server(t, echo(nil))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := loadgen.RunWhirl(ctx, loadgen.Config{Addr: addr, Conns: 2, Size: 64, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("RunWhirl took %v after its context ended", d)
	}
}

// TestRunWhirlStopsByItself: once RunWhirl returned, its reactor's loops,
// its connections and the server's goroutines for them are gone.
func TestRunWhirlStopsByItself(t *testing.T) {
	addr := server(t, echo(nil))
	before := runtime.NumGoroutine()
	res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
		Addr: addr, Conns: 20, Size: 64, Depth: 2, Loops: 2, Duration: 100 * time.Millisecond,
	})
	if err != nil || !res.OK() {
		t.Fatalf("err %v, result %+v", err, res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left over %d before the run:\n%s",
				runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
