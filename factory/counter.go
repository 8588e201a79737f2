package factory

import "sync"

// StartCounter passes a wrapping factory's StartFactory and StopFactory on
// to the factory it wraps, counted as Twisted's doStart/doStop count them:
// the wrapped factory is started by the first Start not matched by a Stop,
// and stopped by the Stop that matches it. A wrapper used by several ports
// (or wrapped itself) thus starts and stops what it wraps once. The zero
// value is ready; it must not be copied after first use.
type StartCounter struct {
	mu     sync.Mutex
	starts int // Start calls not yet matched by Stop
}

// Start calls f.StartFactory if this is the first call not matched by a
// Stop. If f.StartFactory panics, the call is not counted and the panic goes
// on. Any goroutine (the one that listens).
func (c *StartCounter) Start(f Factory) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.starts++
	if c.starts > 1 {
		return
	}
	started := false
	defer func() {
		if !started {
			c.starts--
		}
	}()
	f.StartFactory()
	started = true
}

// Stop calls f.StopFactory when it matches the first Start; a Stop with no
// Start to match does nothing. Any goroutine (the one that stops
// listening).
func (c *StartCounter) Stop(f Factory) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.starts == 0 {
		return
	}
	c.starts--
	if c.starts == 0 {
		f.StopFactory()
	}
}
