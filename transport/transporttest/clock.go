package transporttest

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// Epoch is the time at which a [NewClock] starts.
var Epoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Clock is a fake [transport.Clock]: Twisted's task.Clock. Its time moves only
// when [Clock.Advance] or [Clock.Pump] is called, and the calls scheduled with
// [Clock.CallLater] run then, on the goroutine that advanced the clock.
//
// A Clock must be made with [NewClock]. Every method is safe to call from any
// goroutine.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	pending []*delayedCall
}

var _ transport.Clock = (*Clock)(nil)

// NewClock returns a clock that reads [Epoch] and has no pending calls.
// Any goroutine.
func NewClock() *Clock {
	return &Clock{now: Epoch}
}

// Now returns the clock's current time. Any goroutine.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// CallLater schedules fn to run d from now, at the first [Clock.Advance] that
// reaches that time. It never runs fn itself: a d of 0 or less is due at once
// and runs at the next Advance, even Advance(0). Calls due at the same time
// run in the order they were scheduled. Any goroutine.
func (c *Clock) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	dc := &delayedCall{clock: c, due: c.now.Add(max(d, 0)), seq: c.seq, fn: fn}
	c.pending = append(c.pending, dc)
	return dc
}

// Advance moves the clock d forward, then runs every pending call that is due,
// earliest first (calls due at the same time in the order they were
// scheduled), as Twisted's Clock.advance does. A call scheduled by one of them
// runs in the same Advance if it is due too. As the time moved first, a delay
// given to CallLater during Advance counts from the new time: only calls with
// a delay of 0 or less are due at once. A call that keeps scheduling itself
// with a delay of 0 never lets Advance return.
//
// The calls run on the goroutine that calls Advance, one at a time, without
// the clock's lock held: they may schedule, cancel and reset calls. A panic in
// a call propagates to the caller of Advance; that call counts as run. Advance
// panics if d is negative. Any goroutine, though a test normally advances its
// clock from one goroutine only: two Advances at once run their calls at once.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("transporttest: Clock.Advance with a negative duration")
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	for {
		fn := c.popDue()
		if fn == nil {
			return
		}
		fn()
	}
}

// Pump calls [Clock.Advance] with each step in turn: Twisted's Clock.pump.
// Any goroutine.
func (c *Clock) Pump(steps ...time.Duration) {
	for _, d := range steps {
		c.Advance(d)
	}
}

// Calls returns the pending calls, earliest first. Any goroutine.
func (c *Clock) Calls() []transport.DelayedCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	sorted := slices.Clone(c.pending)
	slices.SortFunc(sorted, compareCalls)
	calls := make([]transport.DelayedCall, len(sorted))
	for i, dc := range sorted {
		calls[i] = dc
	}
	return calls
}

// popDue removes the earliest due call, marks it called and returns its
// function, or returns nil if no call is due.
func (c *Clock) popDue() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := -1
	for i, dc := range c.pending {
		if dc.due.After(c.now) {
			continue
		}
		if next < 0 || compareCalls(dc, c.pending[next]) < 0 {
			next = i
		}
	}
	if next < 0 {
		return nil
	}
	dc := c.pending[next]
	c.pending = slices.Delete(c.pending, next, next+1)
	dc.state = called
	fn := dc.fn
	dc.fn = nil
	return fn
}

// remove drops dc from the pending calls. c.mu must be held.
func (c *Clock) remove(dc *delayedCall) {
	if i := slices.Index(c.pending, dc); i >= 0 {
		c.pending = slices.Delete(c.pending, i, i+1)
	}
}

// compareCalls orders calls by due time, then by scheduling order.
func compareCalls(a, b *delayedCall) int {
	if n := a.due.Compare(b.due); n != 0 {
		return n
	}
	return cmp.Compare(a.seq, b.seq)
}

type callState int

const (
	pending callState = iota
	called
	cancelled
)

// delayedCall is the [transport.DelayedCall] returned by Clock.CallLater. Its
// fields are guarded by clock.mu.
type delayedCall struct {
	clock *Clock
	due   time.Time
	seq   uint64 // scheduling order; kept by Reset and Delay
	fn    func()
	state callState
}

// check returns the error for a call that is no longer pending.
// clock.mu must be held.
func (dc *delayedCall) check() error {
	switch dc.state {
	case called:
		return transport.ErrAlreadyCalled
	case cancelled:
		return transport.ErrAlreadyCancelled
	}
	return nil
}

// Cancel stops the call from running. It returns transport.ErrAlreadyCalled
// or transport.ErrAlreadyCancelled when the call is no longer pending.
// Any goroutine.
func (dc *delayedCall) Cancel() error {
	dc.clock.mu.Lock()
	defer dc.clock.mu.Unlock()
	if err := dc.check(); err != nil {
		return err
	}
	dc.state = cancelled
	dc.fn = nil
	dc.clock.remove(dc)
	return nil
}

// Reset makes the call due d after the clock's current time (d of 0 or less:
// due at once). Among calls due at the same time it keeps its place in
// scheduling order. Same errors as Cancel. Any goroutine.
func (dc *delayedCall) Reset(d time.Duration) error {
	dc.clock.mu.Lock()
	defer dc.clock.mu.Unlock()
	if err := dc.check(); err != nil {
		return err
	}
	dc.due = dc.clock.now.Add(max(d, 0))
	return nil
}

// Delay makes the call due d later than it was (earlier if d is negative).
// Same errors as Cancel. Any goroutine.
func (dc *delayedCall) Delay(d time.Duration) error {
	dc.clock.mu.Lock()
	defer dc.clock.mu.Unlock()
	if err := dc.check(); err != nil {
		return err
	}
	dc.due = dc.due.Add(d)
	return nil
}

// Active reports whether the call is still pending: neither run nor
// cancelled. Any goroutine.
func (dc *delayedCall) Active() bool {
	dc.clock.mu.Lock()
	defer dc.clock.mu.Unlock()
	return dc.state == pending
}

// Time returns when the call is due, or was due when it ran or was cancelled.
// Any goroutine.
func (dc *delayedCall) Time() time.Time {
	dc.clock.mu.Lock()
	defer dc.clock.mu.Unlock()
	return dc.due
}
