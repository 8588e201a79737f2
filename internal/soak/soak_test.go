package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// maxGrowth is the bound the small runs must keep: the server's peak RSS
// above idle.
const maxGrowth = 64 << 20

// result holds the fields of soak's JSON report that the test checks.
type result struct {
	Mode       string `json:"mode"`
	Size       int64  `json:"size"`
	Written    int64  `json:"written"`
	PushedBack bool   `json:"pushed_back"`
	Ended      string `json:"ended"`
	Echoed     int64  `json:"echoed"`
	Verified   bool   `json:"verified"`
	VerifyErr  string `json:"verify_error"`

	Conns     int `json:"conns"`
	Connected int `json:"connected"`
	Failed    int `json:"failed"`
	Latency   []struct {
		Phase  string `json:"phase"`
		Pings  int    `json:"pings"`
		Errors int    `json:"errors"`
	} `json:"latency"`

	Open        int   `json:"open"`
	Announced   int64 `json:"announced"`
	FreshServed bool  `json:"fresh_served"`
	HeapMB      int   `json:"gc_heap_peak_mb"`

	IdleRSS    int64          `json:"idle_rss"`
	PeakRSS    int64          `json:"peak_rss"`
	Growth     int64          `json:"growth"`
	Samples    int            `json:"samples"`
	Warnings   map[string]int `json:"server_warnings"`
	ServerExit string         `json:"server_exit"`
}

// build compiles the whirl command and the soak tool (without the race
// detector: the server under test is a plain binary) into a temporary
// directory and returns their paths.
func build(t *testing.T) (whirl, soak string) {
	t.Helper()
	dir := t.TempDir()
	whirl, soak = filepath.Join(dir, "whirl"), filepath.Join(dir, "soak")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([][]byte, 2)
	for i, b := range []struct{ out, pkg string }{
		{whirl, "github.com/whirl-go/whirl/cmd/whirl"},
		{soak, "github.com/whirl-go/whirl/internal/soak"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = exec.Command("go", "build", "-o", b.out, b.pkg).CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, outs[i])
		}
	}
	return whirl, soak
}

// TestSoak runs small versions of `soak flood` and `soak stuck` against a
// real `whirl echo` process and checks the bounds of issue 5: the server's
// memory stays bounded, the flooding client is pushed back by TCP, and the
// well-behaved connections keep being answered. `soak headers` checks that
// `whirl framedecho` buffers only what arrived of a string whose header
// announces 2^31-1 bytes.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process and pushes data through it; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's memory from /proc")
	}
	whirl, soak := build(t)

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, r *result)
	}{
		{
			name: "flood",
			args: []string{"flood", "-size", "32MiB", "-stall", "1s"},
			check: func(t *testing.T, r *result) {
				if !r.PushedBack || r.Written >= r.Size {
					t.Errorf("pushed back %v after %d of %d bytes, want pushed back before the end", r.PushedBack, r.Written, r.Size)
				}
				if got, want := r.Ended, "open, reading paused"; got != want {
					t.Errorf("connection %q, want %q", got, want)
				}
				if !r.Verified || r.Echoed != r.Size {
					t.Errorf("echo: %d of %d bytes back, verified %v (%s), want all, verified", r.Echoed, r.Size, r.Verified, r.VerifyErr)
				}
			},
		},
		{
			name: "stuck",
			args: []string{"stuck", "-conns", "50", "-good", "4", "-baseline", "1s", "-hold", "1s", "-stall", "1s"},
			check: func(t *testing.T, r *result) {
				if r.Connected != r.Conns || r.Failed != 0 {
					t.Errorf("%d of %d stuck connections connected, %d failed, want all connected, none failed", r.Connected, r.Conns, r.Failed)
				}
				if len(r.Latency) != 3 {
					t.Fatalf("%d latency phases, want 3", len(r.Latency))
				}
				for _, l := range r.Latency {
					if l.Errors != 0 {
						t.Errorf("phase %s: %d good connections failed, want 0", l.Phase, l.Errors)
					}
				}
				for _, l := range []int{0, 2} { // before, held: at least one second each
					if r.Latency[l].Pings == 0 {
						t.Errorf("phase %s: no ping answered, want some", r.Latency[l].Phase)
					}
				}
			},
		},
		{
			name: "headers",
			args: []string{"headers", "-conns", "20", "-payload", "3", "-hold", "1s"},
			check: func(t *testing.T, r *result) {
				if r.Announced != 1<<31-1 || r.Open != r.Conns {
					t.Errorf("%d of %d connections open after announcing %d bytes, want all open (2^31-1 is the server's MaxLength)", r.Open, r.Conns, r.Announced)
				}
				if !r.FreshServed {
					t.Error("fresh client not served")
				}
				if r.Growth >= 16<<20 || r.HeapMB >= 16 {
					t.Errorf("server RSS grew by %d KiB, Go heap peaked at %d MB; want both < 16 MiB", r.Growth>>10, r.HeapMB)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			args := append(tt.args, "-json", "-server", whirl, "-idle", "300ms")
			cmd := exec.CommandContext(ctx, soak, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("soak %v: %v\n%s", args, err, stderr.Bytes())
			}
			var r result
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("soak's report is not JSON: %v\n%s", err, stdout.Bytes())
			}
			t.Logf("peak RSS %d KiB, idle %d KiB, growth %d KiB (%d samples)", r.PeakRSS>>10, r.IdleRSS>>10, r.Growth>>10, r.Samples)
			if got, want := r.Mode, tt.name; got != want {
				t.Errorf("mode %q, want %q", got, want)
			}
			if r.Samples == 0 || r.IdleRSS <= 0 || r.PeakRSS < r.IdleRSS {
				t.Errorf("RSS: %d samples, idle %d, peak %d: want samples and peak >= idle > 0", r.Samples, r.IdleRSS, r.PeakRSS)
			}
			if r.Growth >= maxGrowth {
				t.Errorf("server RSS grew by %d MiB, want < %d MiB", r.Growth>>20, maxGrowth>>20)
			}
			if len(r.Warnings) != 0 {
				t.Errorf("server warnings %v, want none", r.Warnings)
			}
			if got, want := r.ServerExit, "graceful"; got != want {
				t.Errorf("server exit %q, want %q", got, want)
			}
			tt.check(t, &r)
		})
	}
}
