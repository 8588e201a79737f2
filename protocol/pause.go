package protocol

import (
	"sync/atomic"

	"github.com/whirl-go/whirl/transport"
)

// pausable is the receivers' own pause flag: Twisted's _PauseableMixin.paused.
// It is set from any goroutine; the receiver reads it on its loop before
// each delivery.
type pausable interface {
	setPaused(paused bool)
	isPaused() bool
}

// pauseFlag is a pausable on its own word (the string receivers).
type pauseFlag struct{ v atomic.Bool }

func (f *pauseFlag) setPaused(paused bool) { f.v.Store(paused) }
func (f *pauseFlag) isPaused() bool        { return f.v.Load() }

// pauseReceiver is a receiver's PauseProducing: no delivery from now on, and
// t stops reading so the peer is pushed back. Any goroutine.
func pauseReceiver(p pausable, t transport.Transport) {
	p.setPaused(true)
	if t != nil {
		t.PauseProducing()
	}
}

// stopReceiver is a receiver's StopProducing: no delivery from now on, and t
// closes. Any goroutine.
func stopReceiver(p pausable, t transport.Transport) {
	p.setPaused(true)
	if t != nil {
		t.StopProducing()
	}
}

// resumeReceiver is a receiver's ResumeProducing. It clears the pause, then,
// on t's loop (after the current callback, whichever goroutine calls it),
// runs deliver, which hands over what the receiver held back, and resumes t
// unless deliver paused it again. t stays paused until then, so nothing new
// overtakes what was held. If the connection is closing, or its loop has
// stopped, nothing is delivered. Any goroutine.
func resumeReceiver(p pausable, t transport.Transport, deliver func()) {
	p.setPaused(false)
	if t == nil {
		return
	}
	l := t.Loop()
	if l == nil {
		return
	}
	_ = l.CallSoon(func() {
		if p.isPaused() || t.Disconnecting() {
			return
		}
		deliver()
		if !p.isPaused() && !t.Disconnecting() {
			t.ResumeProducing()
		}
	})
}
