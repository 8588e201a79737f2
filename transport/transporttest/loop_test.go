package transporttest_test

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestLoopClock(t *testing.T) {
	c := transporttest.NewClock()
	l := transporttest.NewLoop(c)
	if l.Clock() != c {
		t.Error("Clock() is not the clock given to NewLoop")
	}
	c.Advance(time.Minute)
	if got, want := l.Now(), c.Now(); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	ran := false
	l.CallLater(time.Second, func() { ran = true })
	if got := len(c.Calls()); got != 1 {
		t.Fatalf("loop's CallLater left %d calls on the clock, want 1", got)
	}
	c.Advance(time.Second)
	if !ran {
		t.Error("loop's CallLater did not run on Advance")
	}
}

func TestCallSoonOrder(t *testing.T) {
	l := transporttest.NewLoop(transporttest.NewClock())
	var got []string
	soon := func(name string) {
		t.Helper()
		if err := l.CallSoon(func() { got = append(got, name) }); err != nil {
			t.Fatalf("CallSoon() = %v, want nil", err)
		}
	}
	soon("a")
	l.CallLater(0, func() {
		got = append(got, "b")
		soon("e") // scheduled while running: still runs in this Advance
	})
	soon("c")
	l.CallLater(time.Nanosecond, func() { got = append(got, "not yet") })
	soon("d")
	if len(got) != 0 {
		t.Fatalf("CallSoon ran %q before Advance", got)
	}

	l.Clock().Advance(0)

	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}

func TestLoopStop(t *testing.T) {
	l := transporttest.NewLoop(transporttest.NewClock())
	if l.Stopped() {
		t.Error("Stopped() = true before Stop")
	}
	l.Stop()
	l.Stop() // idempotent
	if !l.Stopped() {
		t.Error("Stopped() = false after Stop")
	}
	if err := l.CallSoon(func() { t.Error("CallSoon ran fn after Stop") }); !errors.Is(err, transport.ErrLoopStopped) {
		t.Errorf("CallSoon() after Stop = %v, want %v", err, transport.ErrLoopStopped)
	}
	fnRan := false
	var thenErrs []error
	l.DeferToGoroutine(
		func() (any, error) { fnRan = true; return "result", nil },
		func(res any, err error) {
			if res != nil {
				t.Errorf("then after Stop got result %v, want nil", res)
			}
			thenErrs = append(thenErrs, err)
		},
	)
	if !fnRan {
		t.Error("DeferToGoroutine did not run fn after Stop")
	}
	l.Clock().Advance(0)
	// As with the reactor, then is not dropped: it hears that the loop stopped.
	if len(thenErrs) != 1 || !errors.Is(thenErrs[0], transport.ErrLoopStopped) {
		t.Errorf("then after Stop called with %v, want once with %v", thenErrs, transport.ErrLoopStopped)
	}
}

func TestDeferToGoroutine(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		fn         func() (any, error)
		wantResult any
		wantErr    error // matched with errors.Is
		wantPanic  any   // PanicError.Value, if fn panics
	}{
		{
			name:       "result",
			fn:         func() (any, error) { return 42, nil },
			wantResult: 42,
		},
		{
			name:       "error",
			fn:         func() (any, error) { return "partial", errBoom },
			wantResult: "partial",
			wantErr:    errBoom,
		},
		{
			name:      "panic with a string",
			fn:        func() (any, error) { panic("oops") },
			wantPanic: "oops",
		},
		{
			name:      "panic with an error",
			fn:        func() (any, error) { panic(io.ErrUnexpectedEOF) },
			wantErr:   io.ErrUnexpectedEOF,
			wantPanic: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := transporttest.NewLoop(transporttest.NewClock())
			called := 0
			var gotResult any
			var gotErr error
			l.DeferToGoroutine(tt.fn, func(result any, err error) {
				called++
				gotResult, gotErr = result, err
			})
			if called != 0 {
				t.Fatal("then ran before Advance")
			}
			l.Clock().Advance(0)
			if called != 1 {
				t.Fatalf("then ran %d times, want 1", called)
			}
			if gotResult != tt.wantResult {
				t.Errorf("result = %v, want %v", gotResult, tt.wantResult)
			}
			if tt.wantErr != nil && !errors.Is(gotErr, tt.wantErr) {
				t.Errorf("err = %v, want one matching %v", gotErr, tt.wantErr)
			}
			var pe *transport.PanicError
			switch {
			case tt.wantPanic == nil && errors.As(gotErr, &pe):
				t.Errorf("err = %v, want no PanicError", gotErr)
			case tt.wantPanic != nil && !errors.As(gotErr, &pe):
				t.Errorf("err = %v, want a *transport.PanicError", gotErr)
			case tt.wantPanic != nil:
				if pe.Value != tt.wantPanic {
					t.Errorf("PanicError.Value = %v, want %v", pe.Value, tt.wantPanic)
				}
				if len(pe.Stack) == 0 {
					t.Error("PanicError.Stack is empty")
				}
			case tt.wantErr == nil && gotErr != nil:
				t.Errorf("err = %v, want nil", gotErr)
			}
		})
	}
}

func TestDeferToGoroutineOrder(t *testing.T) {
	l := transporttest.NewLoop(transporttest.NewClock())
	var got []string
	_ = l.CallSoon(func() { got = append(got, "soon") })
	l.DeferToGoroutine(
		func() (any, error) { return "deferred", nil },
		func(r any, _ error) { got = append(got, r.(string)) },
	)
	_ = l.CallSoon(func() { got = append(got, "after") })
	l.Clock().Advance(0)
	if want := []string{"soon", "deferred", "after"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}
