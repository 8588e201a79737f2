//go:build linux

package harness_test

import (
	"os"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
)

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	r, err := harness.RSS(pid)
	if err != nil || r <= 0 {
		t.Errorf("RSS(self) = %d, %v; want > 0", r, err)
	}
	start, err := harness.CPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	end, err := harness.CPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if end-start < 100*time.Millisecond {
		t.Errorf("CPUTime grew by %v over 300 ms of spinning (%d loops), want ≥ 100 ms", end-start, x)
	}
	if _, err := harness.RSS(1 << 30); err == nil {
		t.Error("RSS of a process that does not exist returned no error")
	}
}
