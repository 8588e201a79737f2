//go:build !linux

package harness

import (
	"errors"
	"time"
)

// errNoProc is what the readers of /proc return on systems without it: the
// harness's measurements are Linux only, so every cell fails with this
// error elsewhere. The rest works everywhere: bench report, the server and
// client subcommands, and the auto pinning, which pins nothing without
// taskset.
var errNoProc = errors.New("harness: a server's CPU time and memory are read from /proc, which only Linux has")

func rss(int) (int64, error) { return 0, errNoProc }

func cpuTime(int) (time.Duration, error) { return 0, errNoProc }
