package transporttest

import (
	"runtime/debug"
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// Loop is a fake [transport.Loop] on top of a [Clock]: what it runs, it runs
// when the clock is advanced, on the goroutine that calls [Clock.Advance].
//
// A Loop must be made with [NewLoop]. Every method is safe to call from any
// goroutine.
type Loop struct {
	clock *Clock

	mu      sync.Mutex
	stopped bool
}

var _ transport.Loop = (*Loop)(nil)

// NewLoop returns a loop that runs on c. Several loops may share one clock;
// their calls then run in one order. Any goroutine.
func NewLoop(c *Clock) *Loop {
	return &Loop{clock: c}
}

// Clock returns the clock the loop runs on. Any goroutine.
func (l *Loop) Clock() *Clock { return l.clock }

// Now returns the time of the loop's clock. Any goroutine.
func (l *Loop) Now() time.Time { return l.clock.Now() }

// CallLater is [Clock.CallLater] on the loop's clock. It still schedules
// after [Loop.Stop]. Any goroutine.
func (l *Loop) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	return l.clock.CallLater(d, fn)
}

// CallSoon schedules fn on the loop's clock with a delay of 0, so it runs at
// the next [Clock.Advance], even Advance(0): after the calls due earlier, and
// after the calls due at the same time that were scheduled before it (by
// CallSoon or CallLater alike). It returns transport.ErrLoopStopped after
// [Loop.Stop]. Any goroutine.
func (l *Loop) CallSoon(fn func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return transport.ErrLoopStopped
	}
	l.clock.CallLater(0, fn)
	return nil
}

// DeferToGoroutine runs fn at once, on the calling goroutine, then schedules
// then(result, err) with [Loop.CallSoon], so that it runs at the next
// [Clock.Advance]. A panic in fn is recovered and passed to then as a
// *transport.PanicError with a nil result. If the loop has stopped, fn still
// runs and then is called at once, on the calling goroutine (the reactor
// uses another goroutine; here it stays deterministic), with a nil result and
// transport.ErrLoopStopped: as with the reactor, then is never dropped.
// Any goroutine.
func (l *Loop) DeferToGoroutine(fn func() (any, error), then func(result any, err error)) {
	result, err := runRecovered(fn)
	if l.CallSoon(func() { then(result, err) }) != nil {
		then(nil, transport.ErrLoopStopped)
	}
}

func runRecovered(fn func() (any, error)) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, &transport.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// Stop stops the loop: from then on CallSoon returns transport.ErrLoopStopped.
// Calls already scheduled stay pending on the clock. Calling it again does
// nothing. Any goroutine.
func (l *Loop) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// Stopped reports whether [Loop.Stop] was called. Any goroutine.
func (l *Loop) Stopped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}
