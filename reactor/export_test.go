package reactor

import "github.com/whirl-go/whirl/transport"

// WithoutEpollPause makes read pauses fall back to bounded buffering, as when
// the loop's epoll set cannot be found.
func WithoutEpollPause() Option { return func(c *config) { c.noEpollPause = true } }

// EpollPauseAvailable reports whether every loop found its epoll set.
// Call it while the reactor runs.
func EpollPauseAvailable(r *Reactor) bool {
	for _, l := range r.loops {
		if l.epfd < 0 {
			return false
		}
	}
	return true
}

// HasConnExt reports whether the connection behind t allocated its connExt
// (the state only some connections need). Loop goroutine of t.
func HasConnExt(t transport.Transport) bool { return t.(*conn).x.Load() != nil }
