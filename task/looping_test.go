package task_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/task"
	"github.com/whirl-go/whirl/transport/transporttest"
)

const sec = time.Second

// call is one call of a LoopingCall's function: when, from Epoch, and the
// count it was given.
type call struct {
	at    time.Duration
	count int
}

func (c call) String() string { return fmt.Sprintf("%v×%d", c.at, c.count) }

// recorder records the calls of a LoopingCall on its clock.
type recorder struct {
	clock *transporttest.Clock
	calls []call
	// then, if set, runs inside the function after the call is recorded.
	then func(n int)
}

func (r *recorder) fn(count int) {
	r.calls = append(r.calls, call{r.clock.Now().Sub(transporttest.Epoch), count})
	if r.then != nil {
		r.then(len(r.calls))
	}
}

// pending returns when each pending call of c is due, from Epoch.
func pending(c *transporttest.Clock) []time.Duration {
	var due []time.Duration
	for _, dc := range c.Calls() {
		due = append(due, dc.Time().Sub(transporttest.Epoch))
	}
	return due
}

func TestLoopingCallSchedule(t *testing.T) {
	tests := []struct {
		name        string
		before      time.Duration // clock advance before Start
		interval    time.Duration
		now         bool
		advances    []time.Duration
		want        []call
		wantPending []time.Duration
	}{
		{"now", 0, 10 * sec, true, []time.Duration{10 * sec, 10 * sec},
			[]call{{0, 1}, {10 * sec, 1}, {20 * sec, 1}}, []time.Duration{30 * sec}},
		{"not now", 0, 10 * sec, false, []time.Duration{10 * sec, 10 * sec},
			[]call{{10 * sec, 1}, {20 * sec, 1}}, []time.Duration{30 * sec}},
		{"nothing before it is due", 0, 10 * sec, false, []time.Duration{10*sec - 1},
			nil, []time.Duration{10 * sec}},
		{"a late call counts the intervals it stands for", 0, 10 * sec, true, []time.Duration{25 * sec},
			[]call{{0, 1}, {25 * sec, 2}}, []time.Duration{30 * sec}},
		{"aligned to the start, not to the late call", 0, 10 * sec, true, []time.Duration{25 * sec, 5 * sec},
			[]call{{0, 1}, {25 * sec, 2}, {30 * sec, 1}}, []time.Duration{40 * sec}},
		{"many intervals skipped, one call", 0, 10 * sec, false, []time.Duration{100 * sec},
			[]call{{100 * sec, 10}}, []time.Duration{110 * sec}},
		{"late by less than an interval", 0, 10 * sec, false, []time.Duration{15 * sec, 5 * sec},
			[]call{{15 * sec, 1}, {20 * sec, 1}}, []time.Duration{30 * sec}},
		{"small steps", 0, 10 * sec, false, slices.Repeat([]time.Duration{3 * sec}, 10),
			[]call{{12 * sec, 1}, {21 * sec, 1}, {30 * sec, 1}}, []time.Duration{40 * sec}},
		{"counts from the start time", 7 * sec, 10 * sec, false, []time.Duration{10 * sec, 10 * sec},
			[]call{{17 * sec, 1}, {27 * sec, 1}}, []time.Duration{37 * sec}},
		{"sub-second interval", 0, 250 * time.Millisecond, true, []time.Duration{sec},
			[]call{{0, 1}, {sec, 4}}, []time.Duration{1250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			c.Advance(tt.before)
			r := &recorder{clock: c}
			lc := task.NewLoopingCallWithCount(c, r.fn)
			if err := lc.Start(tt.interval, tt.now); err != nil {
				t.Fatalf("Start: %v", err)
			}
			c.Pump(tt.advances...)
			if !slices.Equal(r.calls, tt.want) {
				t.Errorf("calls %v, want %v", r.calls, tt.want)
			}
			if got := pending(c); !slices.Equal(got, tt.wantPending) {
				t.Errorf("pending calls due at %v, want %v", got, tt.wantPending)
			}
			if !lc.Running() {
				t.Error("Running() = false, want true")
			}
		})
	}
}

func TestLoopingCallWithoutCount(t *testing.T) {
	c := transporttest.NewClock()
	var at []time.Duration
	lc := task.NewLoopingCall(c, func() { at = append(at, c.Now().Sub(transporttest.Epoch)) })
	if err := lc.Start(10*sec, true); err != nil {
		t.Fatalf("Start: %v", err)
	}
	c.Pump(25*sec, 5*sec)
	if want := []time.Duration{0, 25 * sec, 30 * sec}; !slices.Equal(at, want) {
		t.Errorf("called at %v, want %v", at, want)
	}
}

// TestLoopingCallInside changes the LoopingCall from inside its function.
func TestLoopingCallInside(t *testing.T) {
	tests := []struct {
		name        string
		then        func(lc *task.LoopingCall, n int) // inside the n-th call
		want        []call
		wantRunning bool
		wantPending []time.Duration
	}{
		{"stop", func(lc *task.LoopingCall, n int) {
			if n == 3 {
				if err := lc.Stop(); err != nil {
					panic(err)
				}
			}
		}, []call{{0, 1}, {10 * sec, 1}, {20 * sec, 1}}, false, nil},
		{"stop and start later", func(lc *task.LoopingCall, n int) {
			if n == 2 {
				_ = lc.Stop()
				if err := lc.Start(5*sec, false); err != nil {
					panic(err)
				}
			}
		}, []call{{0, 1}, {10 * sec, 1}, {15 * sec, 1}, {20 * sec, 1}, {25 * sec, 1}, {30 * sec, 1}, {35 * sec, 1}, {40 * sec, 1}}, true, []time.Duration{45 * sec}},
		{"stop and start now", func(lc *task.LoopingCall, n int) {
			if n == 2 {
				_ = lc.Stop()
				if err := lc.Start(15*sec, true); err != nil {
					panic(err)
				}
			}
		}, []call{{0, 1}, {10 * sec, 1}, {10 * sec, 1}, {25 * sec, 1}, {40 * sec, 1}}, true, []time.Duration{55 * sec}},
		{"start while running fails", func(lc *task.LoopingCall, n int) {
			if err := lc.Start(time.Hour, false); !errors.Is(err, task.ErrRunning) {
				panic(fmt.Sprintf("Start inside: %v, want ErrRunning", err))
			}
		}, []call{{0, 1}, {10 * sec, 1}, {20 * sec, 1}, {30 * sec, 1}, {40 * sec, 1}}, true, []time.Duration{50 * sec}},
		{"running inside", func(lc *task.LoopingCall, n int) {
			if !lc.Running() {
				panic("Running() = false inside the function")
			}
			if n == 1 {
				_ = lc.Stop()
				if lc.Running() {
					panic("Running() = true after Stop")
				}
			}
		}, []call{{0, 1}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			r := &recorder{clock: c}
			lc := task.NewLoopingCallWithCount(c, r.fn)
			r.then = func(n int) { tt.then(lc, n) }
			if err := lc.Start(10*sec, true); err != nil {
				t.Fatalf("Start: %v", err)
			}
			c.Pump(slices.Repeat([]time.Duration{5 * sec}, 8)...)
			if !slices.Equal(r.calls, tt.want) {
				t.Errorf("calls %v, want %v", r.calls, tt.want)
			}
			if got := lc.Running(); got != tt.wantRunning {
				t.Errorf("Running() = %v, want %v", got, tt.wantRunning)
			}
			if got := pending(c); !slices.Equal(got, tt.wantPending) {
				t.Errorf("pending calls due at %v, want %v", got, tt.wantPending)
			}
		})
	}
}

func TestLoopingCallErrors(t *testing.T) {
	tests := []struct {
		name      string
		steps     func(lc *task.LoopingCall) error // returns the last error
		wantErr   error
		wantCalls int
		running   bool
	}{
		{"start twice", func(lc *task.LoopingCall) error {
			_ = lc.Start(10*sec, true)
			return lc.Start(10*sec, true)
		}, task.ErrRunning, 1, true},
		{"start running with a negative interval", func(lc *task.LoopingCall) error {
			_ = lc.Start(10*sec, false)
			return lc.Start(-sec, true)
		}, task.ErrRunning, 0, true},
		{"negative interval", func(lc *task.LoopingCall) error {
			return lc.Start(-sec, true)
		}, task.ErrNegativeInterval, 0, false},
		{"stop before start", func(lc *task.LoopingCall) error {
			return lc.Stop()
		}, task.ErrNotRunning, 0, false},
		{"stop twice", func(lc *task.LoopingCall) error {
			_ = lc.Start(10*sec, false)
			if err := lc.Stop(); err != nil {
				return fmt.Errorf("first Stop: %w", err)
			}
			return lc.Stop()
		}, task.ErrNotRunning, 0, false},
		{"start stop start", func(lc *task.LoopingCall) error {
			_ = lc.Start(10*sec, true)
			_ = lc.Stop()
			return lc.Start(10*sec, true)
		}, nil, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			calls := 0
			lc := task.NewLoopingCall(c, func() { calls++ })
			if err := tt.steps(lc); !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if got := lc.Running(); got != tt.running {
				t.Errorf("Running() = %v, want %v", got, tt.running)
			}
		})
	}
}

func TestLoopingCallStopCancels(t *testing.T) {
	c := transporttest.NewClock()
	calls := 0
	lc := task.NewLoopingCall(c, func() { calls++ })
	_ = lc.Start(10*sec, false)
	c.Advance(10 * sec)
	if err := lc.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := len(c.Calls()); got != 0 {
		t.Errorf("%d calls pending after Stop, want 0", got)
	}
	c.Advance(time.Hour)
	if calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
}

func TestLoopingCallRestartAfterStop(t *testing.T) {
	c := transporttest.NewClock()
	r := &recorder{clock: c}
	lc := task.NewLoopingCallWithCount(c, r.fn)
	_ = lc.Start(10*sec, false)
	c.Advance(10 * sec)
	_ = lc.Stop()
	c.Advance(3 * sec)
	if err := lc.Start(10*sec, false); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	c.Pump(10*sec, 25*sec)
	if want := []call{{10 * sec, 1}, {23 * sec, 1}, {48 * sec, 2}}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %v, want %v", r.calls, want)
	}
	if got, want := pending(c), []time.Duration{53 * sec}; !slices.Equal(got, want) {
		t.Errorf("pending calls due at %v, want %v", got, want)
	}
}

func TestLoopingCallZeroInterval(t *testing.T) {
	tests := []struct {
		now       bool
		wantOrder []string
	}{
		// The other call, scheduled after Start, runs between two calls of
		// the loop: a zero interval yields to the clock's other work.
		{true, []string{"loop", "loop", "other", "loop", "loop"}},
		{false, []string{"loop", "other", "loop", "loop", "loop"}},
	}
	for _, tt := range tests {
		now := tt.now
		t.Run(fmt.Sprintf("now=%v", now), func(t *testing.T) {
			c := transporttest.NewClock()
			var order []string
			r := &recorder{clock: c}
			lc := task.NewLoopingCallWithCount(c, r.fn)
			r.then = func(n int) {
				order = append(order, "loop")
				if n == 4 {
					_ = lc.Stop()
				}
			}
			if err := lc.Start(0, now); err != nil {
				t.Fatalf("Start: %v", err)
			}
			wantAtStart := 0
			if now {
				wantAtStart = 1
			}
			if got := len(r.calls); got != wantAtStart {
				t.Errorf("%d calls made by Start, want %d", got, wantAtStart)
			}
			c.CallLater(0, func() { order = append(order, "other") })
			c.Advance(0)
			if want := slices.Repeat([]call{{0, 1}}, 4); !slices.Equal(r.calls, want) {
				t.Errorf("calls %v, want %v", r.calls, want)
			}
			if !slices.Equal(order, tt.wantOrder) {
				t.Errorf("order %v, want %v", order, tt.wantOrder)
			}
			if lc.Running() || len(c.Calls()) != 0 {
				t.Errorf("Running() = %v with %d calls pending, want stopped", lc.Running(), len(c.Calls()))
			}
		})
	}
}

func TestLoopingCallPanic(t *testing.T) {
	tests := []struct {
		name    string
		now     bool
		panicAt int // the call that panics
		run     func(lc *task.LoopingCall, c *transporttest.Clock)
	}{
		{"first call, made by Start", true, 1, func(lc *task.LoopingCall, c *transporttest.Clock) {
			_ = lc.Start(10*sec, true)
		}},
		{"a scheduled call", false, 2, func(lc *task.LoopingCall, c *transporttest.Clock) {
			_ = lc.Start(10*sec, false)
			c.Pump(10*sec, 10*sec)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			calls := 0
			boom := errors.New("boom")
			lc := task.NewLoopingCall(c, func() {
				calls++
				if calls == tt.panicAt {
					panic(boom)
				}
			})
			got := func() (v any) {
				defer func() { v = recover() }()
				tt.run(lc, c)
				return nil
			}()
			if got != boom {
				t.Errorf("panic %v, want %v", got, boom)
			}
			if lc.Running() {
				t.Error("still running after a panic")
			}
			if n := len(c.Calls()); n != 0 {
				t.Errorf("%d calls pending after a panic, want 0", n)
			}
			c.Advance(time.Hour)
			if calls != tt.panicAt {
				t.Errorf("%d calls, want %d", calls, tt.panicAt)
			}
			if err := lc.Start(10*sec, false); err != nil {
				t.Errorf("Start after a panic: %v", err)
			}
		})
	}
}

// TestLoopingCallEarlyClock makes the clock fire a call before it is due:
// the function is not called before its time.
func TestLoopingCallEarlyClock(t *testing.T) {
	c := transporttest.NewClock()
	r := &recorder{clock: c}
	lc := task.NewLoopingCallWithCount(c, r.fn)
	_ = lc.Start(10*sec, false)
	c.Advance(4 * sec)
	calls := c.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls pending, want 1", len(calls))
	}
	if err := calls[0].Reset(0); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	c.Advance(0)
	if len(r.calls) != 0 {
		t.Errorf("called early: %v", r.calls)
	}
	if got, want := pending(c), []time.Duration{10 * sec}; !slices.Equal(got, want) {
		t.Errorf("pending calls due at %v, want %v", got, want)
	}
	c.Advance(6 * sec)
	if want := []call{{10 * sec, 1}}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %v, want %v", r.calls, want)
	}
}

// TestLoopingCallConcurrent starts, stops and polls a LoopingCall from
// several goroutines while its clock runs: run it with -race.
func TestLoopingCallConcurrent(t *testing.T) {
	c := transporttest.NewClock()
	var inside, overlap atomic.Int32
	lc := task.NewLoopingCall(c, func() {
		if inside.Add(1) > 1 {
			overlap.Add(1)
		}
		inside.Add(-1)
	})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				switch (g + i) % 3 {
				case 0:
					_ = lc.Start(sec, false)
				case 1:
					_ = lc.Stop()
				default:
					_ = lc.Running()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			c.Advance(sec)
		}
	}
	if overlap.Load() != 0 {
		t.Error("the function ran twice at once")
	}
	_ = lc.Stop()
	if n := len(c.Calls()); n != 0 {
		t.Errorf("%d calls pending after Stop, want 0", n)
	}
}

func TestNewLoopingCallNil(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{"nil clock", func() { task.NewLoopingCall(nil, func() {}) }},
		{"nil function", func() { task.NewLoopingCall(transporttest.NewClock(), nil) }},
		{"nil function with count", func() { task.NewLoopingCallWithCount(transporttest.NewClock(), nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.fn()
		})
	}
}

func BenchmarkLoopingCallTick(b *testing.B) {
	c := transporttest.NewClock()
	lc := task.NewLoopingCall(c, func() {})
	_ = lc.Start(sec, false)
	b.ReportAllocs()
	for b.Loop() {
		c.Advance(sec)
	}
}
