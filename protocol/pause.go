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

// transportPaused reports whether t's reading is paused: the receivers stop
// delivering then too, so that Transport().PauseProducing from a callback
// or another goroutine takes effect mid-chunk. Any goroutine.
func transportPaused(t transport.Transport) bool { return t != nil && t.ReadPaused() }

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

// resumeReceiver is a receiver's ResumeProducing. It clears the pause,
// resumes t, and on t's loop (after the current callback, whichever
// goroutine calls it) runs deliver, which hands over what the receiver held
// back (unless a callback pauses it again). If the connection is closing, or its loop has
// stopped, nothing is delivered. Any goroutine.
func resumeReceiver(p pausable, t transport.Transport, deliver func()) {
	p.setPaused(false)
	if t == nil {
		return
	}
	// The transport at once: deliver stops at a paused transport, and a
	// resume from inside a callback goes on delivering there. Data read
	// before deliver runs cannot overtake what was held: each receiver's
	// DataReceived hands over what it holds first.
	t.ResumeProducing()
	l := t.Loop()
	if l == nil {
		return
	}
	_ = l.CallSoon(func() {
		if !p.isPaused() && !t.Disconnecting() {
			deliver()
		}
	})
}
