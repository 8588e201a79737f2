package task

import (
	"errors"
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// Errors returned by [LoopingCall] methods.
var (
	// ErrRunning is returned by Start on a LoopingCall that is running.
	ErrRunning = errors.New("task: looping call already running")
	// ErrNotRunning is returned by Stop on a LoopingCall that is not running.
	ErrNotRunning = errors.New("task: looping call not running")
	// ErrNegativeInterval is returned by Start with an interval below zero.
	ErrNegativeInterval = errors.New("task: negative interval")
)

// LoopingCall calls a function again and again at a fixed rate on a
// [transport.Clock]: Twisted's task.LoopingCall.
//
// The rate is aligned to the time Start was called: with an interval i, the
// n-th call is due at start + n·i (the call at start itself is made only if
// Start is asked to call at once). The time the function takes does not push
// the schedule back: after a call returns, the next is due at the next
// multiple of i from the start that is still ahead. Intervals that went by
// while the function ran (or while the loop was busy) are skipped, not
// caught up with back to back; a function made with
// [NewLoopingCallWithCount] is told how many intervals each call stands for.
// No call is made before its due time, even on a clock that fires early.
//
// An interval of 0 calls the function as often as the clock allows: each call
// is scheduled with CallLater(0) once the previous one returned, so other
// work of the loop runs in between (on a transporttest Clock, one Advance
// goes on calling until the function stops the LoopingCall). Every such call
// counts 1.
//
// Start, Stop and Running may be called from any goroutine, including from
// inside the function. The scheduled calls run on the clock's goroutine (see
// the package documentation), one at a time. Start with now true makes the
// first call itself, on the goroutine that calls Start: call Start on the
// clock's goroutine (for a connection's loop, from a protocol callback) to
// keep every call there. Stop from another goroutine does not wait for a
// call in progress to return.
//
// A panic in the function stops the LoopingCall and is not recovered here
// (see the package documentation). A stopped LoopingCall may be started
// again, with a new start time.
type LoopingCall struct {
	clock transport.Clock
	fn    func(count int)

	mu  sync.Mutex
	cur *run // nil when stopped
}

// run is one Start of a LoopingCall, until its Stop. A call scheduled for a
// run does nothing once its LoopingCall has moved on to another run or none.
type run struct {
	lc       *LoopingCall
	interval time.Duration
	start    time.Time
	tick     func() // r.fire, made once per run

	// Guarded by lc.mu.
	last int64                 // interval number of the last call: 0 for start
	call transport.DelayedCall // the next call, or nil while fn runs
}

// NewLoopingCall returns a stopped LoopingCall that will call fn on clock.
// It panics if clock or fn is nil. Any goroutine.
func NewLoopingCall(clock transport.Clock, fn func()) *LoopingCall {
	if fn == nil {
		panic("task: NewLoopingCall with a nil function")
	}
	return NewLoopingCallWithCount(clock, func(int) { fn() })
}

// NewLoopingCallWithCount returns a stopped LoopingCall that will call fn on
// clock with the number of intervals that went by since the previous call
// (or since the start, for the first call): Twisted's
// LoopingCall.withCount. count is 1 when the calls keep to the schedule, and
// more when intervals were skipped because the function or the loop was late;
// the counts add up to the number of intervals since the start (plus one when
// Start called at once). It panics if clock or fn is nil. Any goroutine.
func NewLoopingCallWithCount(clock transport.Clock, fn func(count int)) *LoopingCall {
	if clock == nil {
		panic("task: LoopingCall with a nil clock")
	}
	if fn == nil {
		panic("task: NewLoopingCallWithCount with a nil function")
	}
	return &LoopingCall{clock: clock, fn: fn}
}

// Start starts calling the function every interval, counting from the
// clock's current time. With now true the first call is made at once, by
// Start itself, before it returns (as in Twisted); otherwise the first call
// is due one interval from now. An interval of 0 calls as often as the clock
// allows (see [LoopingCall]).
//
// Start returns [ErrRunning] if the LoopingCall is running already, and
// [ErrNegativeInterval] if interval is below zero; nothing is called then.
// If the first call, made with now true, panics, the LoopingCall is stopped
// and the panic goes on out of Start. Any goroutine.
func (lc *LoopingCall) Start(interval time.Duration, now bool) error {
	lc.mu.Lock()
	if lc.cur != nil {
		lc.mu.Unlock()
		return ErrRunning
	}
	if interval < 0 {
		lc.mu.Unlock()
		return ErrNegativeInterval
	}
	r := &run{lc: lc, interval: interval, start: lc.clock.Now()}
	r.tick = r.fire
	lc.cur = r
	if !now {
		lc.scheduleLocked(r, r.start)
		lc.mu.Unlock()
		return nil
	}
	lc.mu.Unlock()
	r.invoke(1)
	return nil
}

// Stop stops the calls: the pending one is cancelled, and a call in progress
// (when Stop is called from inside the function) is the last. It returns
// [ErrNotRunning] if the LoopingCall is not running. Any goroutine.
func (lc *LoopingCall) Stop() error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.cur == nil {
		return ErrNotRunning
	}
	lc.stopLocked()
	return nil
}

// Running reports whether the LoopingCall is started and not stopped. It is
// true inside the function unless the function stopped it. Any goroutine.
func (lc *LoopingCall) Running() bool {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.cur != nil
}

// stopLocked stops the current run. lc.mu must be held and lc.cur set.
func (lc *LoopingCall) stopLocked() {
	if c := lc.cur.call; c != nil {
		_ = c.Cancel() // an error only says it is no longer pending
		lc.cur.call = nil
	}
	lc.cur = nil
}

// scheduleLocked schedules r's next call, at the first due time after now.
// lc.mu must be held.
func (lc *LoopingCall) scheduleLocked(r *run, now time.Time) {
	if r.interval == 0 {
		r.call = lc.clock.CallLater(0, r.tick)
		return
	}
	due := r.start.Add(time.Duration(r.intervalAt(now)+1) * r.interval)
	r.call = lc.clock.CallLater(due.Sub(now), r.tick)
}

// intervalAt returns the number of whole intervals from r's start to t
// (0 for a t before the start). r.interval must be positive.
func (r *run) intervalAt(t time.Time) int64 {
	return int64(max(t.Sub(r.start), 0) / r.interval)
}

// fire is the scheduled call: it works out the count and calls the function,
// unless the run was stopped or the clock fired early.
func (r *run) fire() {
	lc := r.lc
	lc.mu.Lock()
	if lc.cur != r {
		lc.mu.Unlock()
		return
	}
	r.call = nil
	count := int64(1)
	if r.interval > 0 {
		now := lc.clock.Now()
		n := r.intervalAt(now)
		if n <= r.last { // early: the due time is still ahead
			lc.scheduleLocked(r, now)
			lc.mu.Unlock()
			return
		}
		count = n - r.last
		r.last = n
	}
	lc.mu.Unlock()
	r.invoke(int(count))
}

// invoke calls the function, then schedules the next call if the run is
// still current. A panic stops the LoopingCall and goes on.
func (r *run) invoke(count int) {
	lc := r.lc
	returned := false
	defer func() {
		if returned {
			return
		}
		lc.mu.Lock()
		if lc.cur != nil {
			lc.stopLocked()
		}
		lc.mu.Unlock()
	}()
	lc.fn(count)
	returned = true

	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.cur == r {
		lc.scheduleLocked(r, lc.clock.Now())
	}
}
