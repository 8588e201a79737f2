package loadgen

import (
	"runtime"
	"syscall"
	"time"
)

// The load generators, as named in Result.Client and on the bench's command
// line.
const (
	// ClientGoroutine is Run's generator: a goroutine per connection on
	// the standard library's net.Conn.
	ClientGoroutine = "goroutine"
	// ClientWhirl is RunWhirl's generator: a protocol per connection on
	// whirl's own client (reactor.ConnectTCP), on a few event loops.
	ClientWhirl = "whirl"
)

// usage is what this process used: CPU time and heap allocations.
type usage struct {
	cpu     time.Duration
	mallocs uint64
}

// readUsage reads the process's CPU time (user + system, every thread, from
// getrusage(RUSAGE_SELF); 0 if it fails) and its allocation count. It stops
// the world briefly (runtime.ReadMemStats), so it is called only at the
// edges of the window.
func readUsage() usage {
	var u usage
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u.mallocs = ms.Mallocs
	return u
}

// sub returns u minus the earlier reading v; the CPU time is 0 if either
// reading lacks it.
func (u usage) sub(v usage) usage {
	d := usage{mallocs: u.mallocs - v.mallocs}
	if u.cpu > 0 && v.cpu > 0 {
		d.cpu = u.cpu - v.cpu
	}
	return d
}
