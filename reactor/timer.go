package reactor

import (
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

const (
	callPending uint8 = iota
	callCalled
	callCancelled
)

// delayedCall is a transport.DelayedCall on a Go runtime timer whose
// expiry submits the call to its loop. The loop checks, under the call's lock,
// that the call is still pending and due, so a Reset or Cancel racing with an
// expiry never runs it early or twice.
type delayedCall struct {
	l  *loop
	fn func()

	mu    sync.Mutex
	t     *time.Timer
	when  time.Time
	state uint8
}

var _ transport.DelayedCall = (*delayedCall)(nil)

func newDelayedCall(l *loop, d time.Duration, fn func()) *delayedCall {
	if d < 0 {
		d = 0
	}
	dc := &delayedCall{l: l, fn: fn}
	dc.mu.Lock()
	dc.when = time.Now().Add(d)
	dc.t = time.AfterFunc(d, dc.expire)
	dc.mu.Unlock()
	return dc
}

func (dc *delayedCall) expire() { _ = dc.l.submit(dc.run) }

// run is the loop side of an expiry.
func (dc *delayedCall) run() {
	dc.mu.Lock()
	if dc.state != callPending || time.Now().Before(dc.when) {
		dc.mu.Unlock()
		return
	}
	dc.state = callCalled
	dc.mu.Unlock()
	dc.fn()
}

func (dc *delayedCall) checkLocked() error {
	switch dc.state {
	case callCalled:
		return transport.ErrAlreadyCalled
	case callCancelled:
		return transport.ErrAlreadyCancelled
	}
	return nil
}

// Cancel stops the call. Any goroutine.
func (dc *delayedCall) Cancel() error {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if err := dc.checkLocked(); err != nil {
		return err
	}
	dc.state = callCancelled
	dc.t.Stop()
	return nil
}

// Reset makes the call due d from now. Any goroutine.
func (dc *delayedCall) Reset(d time.Duration) error {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if err := dc.checkLocked(); err != nil {
		return err
	}
	if d < 0 {
		d = 0
	}
	dc.when = time.Now().Add(d)
	dc.t.Reset(d)
	return nil
}

// Delay makes the call due d later than it was. Any goroutine.
func (dc *delayedCall) Delay(d time.Duration) error {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if err := dc.checkLocked(); err != nil {
		return err
	}
	dc.when = dc.when.Add(d)
	dc.t.Reset(max(time.Until(dc.when), 0))
	return nil
}

// Active reports whether the call is pending. Any goroutine.
func (dc *delayedCall) Active() bool {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.state == callPending
}

// Time returns when the call is due. Any goroutine.
func (dc *delayedCall) Time() time.Time {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.when
}
