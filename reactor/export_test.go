package reactor

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
