package loadgen_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
)

// server runs a test server on 127.0.0.1:0 that calls handle for each
// connection, until the test ends.
func server(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, handle)
	return ln.Addr().String()
}

// serve accepts on ln and calls handle for each connection, until the test
// ends.
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// echo writes back what it reads, passing each chunk through f first.
func echo(f func(total int, p []byte) []byte) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 8192)
		total := 0
		for {
			n, err := c.Read(buf)
			if n > 0 {
				out := buf[:n]
				if f != nil {
					out = f(total, out)
				}
				total += n
				if _, werr := c.Write(out); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
}

func TestRun(t *testing.T) {
	addr := server(t, echo(nil))
	tests := []struct {
		name               string
		conns, size, depth int
	}{
		{"ping-pong smallest", 3, loadgen.MinSize, 1},
		{"ping-pong 64", 10, 64, 1},
		{"pipelined 4 KiB", 4, 4096, 8},
		{"pipelined odd size", 2, 1000, 3},
		{"depth 0 is ping-pong", 2, 64, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var phases []loadgen.Phase
			res, err := loadgen.Run(context.Background(), loadgen.Config{
				Addr: addr, Conns: tt.conns, Size: tt.size, Depth: tt.depth,
				Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond,
				OnPhase: func(p loadgen.Phase) { phases = append(phases, p) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("result not OK: %+v", res)
			}
			if res.Messages == 0 || res.PerSec <= 0 || res.P50 <= 0 || res.P99 < res.P50 || res.P999 < res.P99 {
				t.Errorf("implausible result: %+v", res)
			}
			if got, want := res.Bytes, res.Messages*int64(tt.size); got != want {
				t.Errorf("Bytes = %d, want %d", got, want)
			}
			if res.Verified < res.Messages {
				t.Errorf("Verified = %d < Messages = %d", res.Verified, res.Messages)
			}
			if got, want := phases, []loadgen.Phase{loadgen.PhaseMeasure, loadgen.PhaseEnd}; !equalPhases(got, want) {
				t.Errorf("phases = %v, want %v", got, want)
			}
		})
	}
}

func equalPhases(a, b []loadgen.Phase) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// badEcho is a server fault that a client must catch.
type badEcho struct {
	name  string
	depth int
	want  string // in FirstError
	f     func(total int, p []byte) []byte
}

// badEchoes are the faults both clients are tested against.
func badEchoes() []badEcho {
	return []badEcho{
		{"one byte changed", 1, "mismatch", func(total int, p []byte) []byte {
			if i := 1000 - total; i >= 0 && i < len(p) {
				p[i] ^= 0x20
			}
			return p
		}},
		{"one byte dropped", 1, "not echoed back in full", func(total int, p []byte) []byte {
			if i := 700 - total; i >= 0 && i < len(p) {
				return append(p[:i:i], p[i+1:]...)
			}
			return p
		}},
		{"one byte added", 4, "mismatch", func(total int, p []byte) []byte {
			if i := 500 - total; i >= 0 && i < len(p) {
				return append(append(p[:i:i], 'x'), p[i:]...)
			}
			return p
		}},
		{"two messages swapped", 2, "mismatch", func(total int, p []byte) []byte {
			// Each connection's first two 64-byte messages arrive in one
			// chunk when sent in one write: swap them.
			if total == 0 && len(p) >= 128 {
				out := make([]byte, len(p))
				copy(out, p[64:128])
				copy(out[64:], p[:64])
				copy(out[128:], p[128:])
				return out
			}
			return p
		}},
	}
}

func TestRunCatchesBadEchoes(t *testing.T) {
	tests := badEchoes()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := server(t, echo(tt.f))
			res, err := loadgen.Run(context.Background(), loadgen.Config{
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

func TestRunSilentServer(t *testing.T) {
	addr := server(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Addr: addr, Conns: 3, Size: 64, Duration: 50 * time.Millisecond, DrainTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Silent != 3 || res.Verified != 0 || res.OK() {
		t.Errorf("got Silent %d, Verified %d, OK %v; want 3, 0, false", res.Silent, res.Verified, res.OK())
	}
}

func TestRunServerCloses(t *testing.T) {
	addr := server(t, func(c net.Conn) {
		buf := make([]byte, 64)
		_, _ = io.ReadFull(c, buf)
		_, _ = c.Write(buf)
	})
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Addr: addr, Conns: 2, Size: 64, Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 2 || res.OK() {
		t.Errorf("got Errors %d, OK %v; want 2, false (first error %q)", res.Errors, res.OK(), res.FirstError)
	}
	if !strings.Contains(res.FirstError, "unexpected EOF") {
		t.Errorf("FirstError = %q, want an unexpected EOF", res.FirstError)
	}
}

func TestRunDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = loadgen.Run(context.Background(), loadgen.Config{Addr: addr, Conns: 2, Size: 64, Duration: time.Second})
	if err == nil {
		t.Fatal("Run against a closed port returned no error")
	}
}

func TestSetup(t *testing.T) {
	addr := server(t, echo(nil))
	res, err := loadgen.Setup(context.Background(), loadgen.Config{
		Addr: addr, Conns: 3, Size: 64, Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Messages == 0 || res.Mode != "setup" {
		t.Errorf("result not OK: %+v", res)
	}
}

func TestSetupCatchesBadEcho(t *testing.T) {
	addr := server(t, echo(func(_ int, p []byte) []byte { p[len(p)-3]++; return p }))
	res, err := loadgen.Setup(context.Background(), loadgen.Config{
		Addr: addr, Conns: 2, Size: 64, Duration: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches != 2 || res.OK() {
		t.Errorf("got Mismatches %d, OK %v; want 2, false", res.Mismatches, res.OK())
	}
}

func TestHold(t *testing.T) {
	var mu sync.Mutex
	open := 0
	addr := server(t, func(c net.Conn) {
		mu.Lock()
		open++
		mu.Unlock()
		echo(nil)(c)
	})
	h, err := loadgen.Hold(context.Background(), loadgen.Config{Addr: addr, Conns: 50, Size: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !h.Result.OK() || h.Result.Verified != 50 {
		t.Errorf("result not OK: %+v", h.Result)
	}
	mu.Lock()
	got := open
	mu.Unlock()
	if got != 50 {
		t.Errorf("server saw %d connections, want 50", got)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  loadgen.Config
	}{
		{"no address", loadgen.Config{Conns: 1, Size: 64, Duration: time.Second}},
		{"no connections", loadgen.Config{Addr: "127.0.0.1:1", Size: 64, Duration: time.Second}},
		{"message too small", loadgen.Config{Addr: "127.0.0.1:1", Conns: 1, Size: loadgen.MinSize - 1, Duration: time.Second}},
		{"negative depth", loadgen.Config{Addr: "127.0.0.1:1", Conns: 1, Size: 64, Depth: -1, Duration: time.Second}},
		{"no duration", loadgen.Config{Addr: "127.0.0.1:1", Conns: 1, Size: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadgen.Run(context.Background(), tt.cfg); !errors.Is(err, loadgen.ErrConfig) {
				t.Errorf("Run: err = %v, want ErrConfig", err)
			}
			if _, err := loadgen.Setup(context.Background(), tt.cfg); !errors.Is(err, loadgen.ErrConfig) {
				t.Errorf("Setup: err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestRunContextCancel(t *testing.T) {
	addr := server(t, echo(nil))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := loadgen.Run(ctx, loadgen.Config{Addr: addr, Conns: 2, Size: 64, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v after its context ended", d)
	}
}
