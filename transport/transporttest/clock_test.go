package transporttest_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestNewClock(t *testing.T) {
	c := transporttest.NewClock()
	if got, want := c.Now(), transporttest.Epoch; !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	if got := c.Calls(); len(got) != 0 {
		t.Errorf("Calls() = %v, want none", got)
	}
	c.Advance(90 * time.Second)
	if got, want := c.Now(), transporttest.Epoch.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance(90s): Now() = %v, want %v", got, want)
	}
}

func TestClockOrder(t *testing.T) {
	type sched struct {
		name  string
		delay time.Duration
	}
	tests := []struct {
		name    string
		calls   []sched
		advance []time.Duration
		want    []string
	}{
		{
			name:    "due time order",
			calls:   []sched{{"c", 3 * time.Second}, {"a", time.Second}, {"b", 2 * time.Second}},
			advance: []time.Duration{5 * time.Second},
			want:    []string{"a", "b", "c"},
		},
		{
			name:    "ties in scheduling order",
			calls:   []sched{{"x", time.Second}, {"y", time.Second}, {"a", 0}, {"z", time.Second}},
			advance: []time.Duration{time.Second},
			want:    []string{"a", "x", "y", "z"},
		},
		{
			name:    "zero delay runs at Advance(0)",
			calls:   []sched{{"a", 0}, {"b", 0}, {"later", time.Nanosecond}},
			advance: []time.Duration{0},
			want:    []string{"a", "b"},
		},
		{
			name:    "negative delay counts as zero",
			calls:   []sched{{"a", 0}, {"b", -time.Hour}, {"c", 0}},
			advance: []time.Duration{0},
			want:    []string{"a", "b", "c"},
		},
		{
			name:    "not yet due",
			calls:   []sched{{"a", time.Second}, {"b", 2 * time.Second}},
			advance: []time.Duration{999 * time.Millisecond},
			want:    nil,
		},
		{
			name:    "exactly due",
			calls:   []sched{{"a", time.Second}, {"b", 2 * time.Second}},
			advance: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond},
			want:    []string{"a"},
		},
		{
			name:    "several steps",
			calls:   []sched{{"b", 2 * time.Second}, {"a", time.Second}, {"c", 3 * time.Second}},
			advance: []time.Duration{time.Second, time.Second, time.Second},
			want:    []string{"a", "b", "c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			var got []string
			for _, s := range tt.calls {
				c.CallLater(s.delay, func() { got = append(got, s.name) })
			}
			c.Pump(tt.advance...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ran %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCallLaterNeverRunsInline(t *testing.T) {
	c := transporttest.NewClock()
	ran := false
	dc := c.CallLater(0, func() { ran = true })
	if ran {
		t.Fatal("CallLater(0) ran fn before Advance")
	}
	if !dc.Active() {
		t.Error("Active() = false before Advance, want true")
	}
	if got, want := dc.Time(), transporttest.Epoch; !got.Equal(want) {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	c.Advance(0)
	if !ran {
		t.Error("Advance(0) did not run a call of delay 0")
	}
	if dc.Active() {
		t.Error("Active() = true after the call ran, want false")
	}
}

func TestAdvanceRunsCallsScheduledDuringAdvance(t *testing.T) {
	c := transporttest.NewClock()
	var got []string
	var nowInCall time.Time
	c.CallLater(time.Second, func() {
		got = append(got, "first")
		nowInCall = c.Now()
		c.CallLater(0, func() {
			got = append(got, "soon")
			c.CallLater(0, func() { got = append(got, "soon again") })
		})
		// Due one second after the new time, not after this call's due time.
		c.CallLater(time.Second, func() { got = append(got, "next second") })
	})
	c.CallLater(2*time.Second, func() { got = append(got, "second") })
	c.CallLater(3*time.Second, func() { got = append(got, "third") })

	c.Advance(3 * time.Second)

	want := []string{"first", "second", "third", "soon", "soon again"}
	if !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
	// Advance moves the time first, then runs the due calls.
	if want := transporttest.Epoch.Add(3 * time.Second); !nowInCall.Equal(want) {
		t.Errorf("Now() inside a call = %v, want %v", nowInCall, want)
	}
	if n := len(c.Calls()); n != 1 {
		t.Errorf("%d calls pending, want 1", n)
	}
	c.Advance(time.Second)
	if last := got[len(got)-1]; last != "next second" {
		t.Errorf("last call run = %q, want %q", last, "next second")
	}
}

func TestCallbackMayCancelAndReset(t *testing.T) {
	c := transporttest.NewClock()
	var got []string
	var victim, moved transport.DelayedCall
	c.CallLater(time.Second, func() {
		got = append(got, "a")
		if err := victim.Cancel(); err != nil {
			t.Errorf("Cancel() inside a call = %v, want nil", err)
		}
		if err := moved.Reset(time.Hour); err != nil {
			t.Errorf("Reset() inside a call = %v, want nil", err)
		}
	})
	victim = c.CallLater(time.Second, func() { got = append(got, "victim") })
	moved = c.CallLater(time.Second, func() { got = append(got, "moved") })

	c.Advance(time.Second)
	if want := []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
	c.Advance(time.Hour)
	if want := []string{"a", "moved"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func TestDelayedCallErrors(t *testing.T) {
	ops := []struct {
		name string
		do   func(transport.DelayedCall) error
	}{
		{"Cancel", transport.DelayedCall.Cancel},
		{"Reset", func(dc transport.DelayedCall) error { return dc.Reset(time.Second) }},
		{"Delay", func(dc transport.DelayedCall) error { return dc.Delay(time.Second) }},
	}
	states := []struct {
		name  string
		setup func(*transporttest.Clock, transport.DelayedCall)
		want  error
	}{
		{"pending", func(*transporttest.Clock, transport.DelayedCall) {}, nil},
		{"called", func(c *transporttest.Clock, _ transport.DelayedCall) { c.Advance(time.Second) }, transport.ErrAlreadyCalled},
		{"cancelled", func(_ *transporttest.Clock, dc transport.DelayedCall) { _ = dc.Cancel() }, transport.ErrAlreadyCancelled},
	}
	for _, st := range states {
		for _, op := range ops {
			t.Run(st.name+"/"+op.name, func(t *testing.T) {
				c := transporttest.NewClock()
				dc := c.CallLater(time.Second, func() {})
				st.setup(c, dc)
				if got := op.do(dc); !errors.Is(got, st.want) || (got == nil) != (st.want == nil) {
					t.Errorf("%s() = %v, want %v", op.name, got, st.want)
				}
				if got, want := dc.Active(), st.want == nil && op.name != "Cancel"; got != want {
					t.Errorf("Active() = %v, want %v", got, want)
				}
			})
		}
	}
}

func TestCancel(t *testing.T) {
	c := transporttest.NewClock()
	ran := false
	dc := c.CallLater(time.Second, func() { ran = true })
	if err := dc.Cancel(); err != nil {
		t.Fatalf("Cancel() = %v, want nil", err)
	}
	if got := c.Calls(); len(got) != 0 {
		t.Errorf("Calls() after Cancel = %v, want none", got)
	}
	c.Advance(time.Hour)
	if ran {
		t.Error("a cancelled call ran")
	}
}

func TestResetAndDelay(t *testing.T) {
	tests := []struct {
		name    string
		change  func(transport.DelayedCall) error
		wantDue time.Duration // after Epoch
	}{
		{"Reset from now", func(dc transport.DelayedCall) error { return dc.Reset(5 * time.Second) }, 7 * time.Second},
		{"Reset to zero", func(dc transport.DelayedCall) error { return dc.Reset(0) }, 2 * time.Second},
		{"Reset negative", func(dc transport.DelayedCall) error { return dc.Reset(-time.Hour) }, 2 * time.Second},
		{"Delay from due time", func(dc transport.DelayedCall) error { return dc.Delay(5 * time.Second) }, 15 * time.Second},
		{"Delay negative", func(dc transport.DelayedCall) error { return dc.Delay(-3 * time.Second) }, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := transporttest.NewClock()
			var ranAt time.Time
			dc := c.CallLater(10*time.Second, func() { ranAt = c.Now() })
			c.Advance(2 * time.Second)
			if err := tt.change(dc); err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			want := transporttest.Epoch.Add(tt.wantDue)
			if got := dc.Time(); !got.Equal(want) {
				t.Errorf("Time() = %v, want %v", got, want)
			}
			c.Advance(tt.wantDue - 2*time.Second)
			if !ranAt.Equal(want) {
				t.Errorf("ran at %v, want %v", ranAt, want)
			}
		})
	}
}

func TestClockCalls(t *testing.T) {
	c := transporttest.NewClock()
	third := c.CallLater(3*time.Second, func() {})
	first := c.CallLater(time.Second, func() {})
	cancelled := c.CallLater(2*time.Second, func() {})
	second := c.CallLater(2*time.Second, func() {})
	_ = cancelled.Cancel()

	got := c.Calls()
	want := []transport.DelayedCall{first, second, third}
	if !slices.Equal(got, want) {
		t.Errorf("Calls() = %v, want %v", got, want)
	}

	c.Advance(time.Second)
	if got, want := c.Calls(), []transport.DelayedCall{second, third}; !slices.Equal(got, want) {
		t.Errorf("after Advance(1s): Calls() = %v, want %v", got, want)
	}
}

func TestAdvanceNegativePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1) did not panic")
		}
	}()
	transporttest.NewClock().Advance(-1)
}

func TestAdvancePanicInCall(t *testing.T) {
	c := transporttest.NewClock()
	dc := c.CallLater(0, func() { panic("boom") })
	ranNext := false
	c.CallLater(0, func() { ranNext = true })
	func() {
		defer func() {
			if got := recover(); got != "boom" {
				t.Errorf("recovered %v, want boom", got)
			}
		}()
		c.Advance(0)
	}()
	if err := dc.Cancel(); !errors.Is(err, transport.ErrAlreadyCalled) {
		t.Errorf("Cancel() of the call that panicked = %v, want %v", err, transport.ErrAlreadyCalled)
	}
	c.Advance(0)
	if !ranNext {
		t.Error("the next Advance did not run the call left pending by the panic")
	}
}

func TestClockConcurrent(t *testing.T) {
	const goroutines, perGoroutine = 8, 100
	c := transporttest.NewClock()
	var mu sync.Mutex
	ran := 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				dc := c.CallLater(time.Duration(i)*time.Millisecond, func() {
					mu.Lock()
					ran++
					mu.Unlock()
				})
				_ = dc.Active()
				_ = dc.Time()
				c.Advance(time.Millisecond)
				_ = c.Calls()
			}
		})
	}
	wg.Wait()
	c.Advance(time.Hour)
	if want := goroutines * perGoroutine; ran != want {
		t.Errorf("%d calls ran, want %d", ran, want)
	}
}
