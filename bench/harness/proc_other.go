//go:build !linux

package harness

import (
	"errors"
	"syscall"
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

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns the new soft limit. Children inherit it.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	return uint64(lim.Cur) // int64 on FreeBSD, uint64 on Darwin
}
