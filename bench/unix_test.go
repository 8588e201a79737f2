//go:build linux

package main_test

import (
	"path/filepath"
	"testing"

	"github.com/whirl-go/whirl/bench/harness"
)

// TestSmokeUnix runs gnet-unix and whirl-unix under both UNIX scenarios
// through the harness (each cell on its own socket path in a temporary
// directory), checking correctness only, and that the harness removed
// the cells' directories.
func TestSmokeUnix(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the harness makes the socket directories
	smoke(t, harness.UnixServers(), harness.UnixScenarios(), "")
	left, err := filepath.Glob(filepath.Join(tmp, "whirl-bench-unix-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("socket directories left behind: %q", left)
	}
}
