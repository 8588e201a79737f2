package factory_test

import (
	"math"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// fakeConnector records what a factory asks of it. Its clock is a fake one
// whose calls run on the test's goroutine, standing in for the loop.
type fakeConnector struct {
	clock          *transporttest.Clock
	connects       int
	stopConnecting int
	// onStopConnecting, if set, runs inside StopConnecting: a test makes it
	// report the cancelled attempt, as the reactor does.
	onStopConnecting func()
}

var _ factory.Connector = (*fakeConnector)(nil)

func newFakeConnector() *fakeConnector {
	return &fakeConnector{clock: transporttest.NewClock()}
}

func (c *fakeConnector) Connect()    { c.connects++ }
func (c *fakeConnector) Disconnect() {}
func (c *fakeConnector) StopConnecting() {
	c.stopConnecting++
	if c.onStopConnecting != nil {
		c.onStopConnecting()
	}
}
func (c *fakeConnector) Destination() net.Addr {
	return &factory.HostAddr{Net: "tcp", Host: "example.com", Port: 80}
}
func (c *fakeConnector) Clock() transport.Clock { return c.clock }

// reconnectingFactory is a user's factory, as documented.
type reconnectingFactory struct {
	factory.Reconnecting
	built int
}

var _ factory.ClientFactory = (*reconnectingFactory)(nil)

func (f *reconnectingFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.ResetDelay()
	f.built++
	return &counter{}
}

var errLost = transport.ErrConnectionLost

// zs returns a NormFloat64 that returns the given values in turn, and a
// function that reports whether they were all used.
func zs(t *testing.T, values ...float64) (norm func() float64, used func() bool) {
	i := 0
	norm = func() float64 {
		if i == len(values) {
			t.Fatal("NormFloat64 called more often than expected")
		}
		i++
		return values[i-1]
	}
	return norm, func() bool { return i == len(values) }
}

// secs converts seconds to a time.Duration.
func secs(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// pending returns the wait of the only call pending on clock, failing the
// test if there is not exactly one.
func pending(t *testing.T, clock *transporttest.Clock) time.Duration {
	t.Helper()
	calls := clock.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls pending on the clock, want 1", len(calls))
	}
	return calls[0].Time().Sub(clock.Now())
}

// near reports whether got is want to 1e-9 relative. The clock counts whole
// nanoseconds; every delay compared is at least 0.75 s, so rounding to one
// stays within that.
func near(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= 1e-9*math.Abs(float64(want))
}

// expectRetry checks that f scheduled one retry of c after want, that Connect
// is not called a nanosecond before it is due and is called once when it is.
func expectRetry(t *testing.T, f *factory.Reconnecting, c *fakeConnector, want time.Duration) {
	t.Helper()
	got := pending(t, c.clock)
	if !near(got, want) {
		t.Fatalf("retry scheduled in %v, want %v", got, want)
	}
	if d := f.Delay(); d != got {
		t.Errorf("Delay() = %v, want the scheduled %v", d, got)
	}
	if !f.RetryPending() {
		t.Error("RetryPending() = false with a retry scheduled")
	}
	before := c.connects
	c.clock.Advance(got - time.Nanosecond)
	if c.connects != before {
		t.Fatalf("Connect called %v before the retry was due", time.Nanosecond)
	}
	c.clock.Advance(time.Nanosecond)
	if c.connects != before+1 {
		t.Fatalf("Connect called %d times when the retry was due, want 1", c.connects-before)
	}
	if n := len(c.clock.Calls()); n != 0 {
		t.Errorf("%d calls pending after the retry ran, want 0", n)
	}
	if f.RetryPending() {
		t.Error("RetryPending() = true after the retry ran")
	}
}

// expectNoRetry checks that nothing is scheduled and Connect is not called,
// however long the clock runs.
func expectNoRetry(t *testing.T, f *factory.Reconnecting, c *fakeConnector) {
	t.Helper()
	if n := len(c.clock.Calls()); n != 0 {
		t.Fatalf("%d calls pending on the clock, want none", n)
	}
	if f.RetryPending() {
		t.Error("RetryPending() = true with nothing scheduled")
	}
	before := c.connects
	c.clock.Advance(100 * time.Hour)
	if c.connects != before {
		t.Errorf("Connect called %d times, want 0", c.connects-before)
	}
}

// twistedCase is one case of the golden table in twisted_delays_test.go.
// The configuration is in Reconnecting's terms (seconds for the delays;
// zero for a default).
type twistedCase struct {
	name                           string
	initialDelay, factor, maxDelay float64
	jitter                         float64
	maxRetries                     int
	z                              []float64
	steps                          []twistedStep
}

// twistedStep is an event and what Twisted did: the delay it scheduled (-1:
// none) and its retries counter after it.
type twistedStep struct {
	event   string // "fail", "lost" or "reset"
	delay   float64
	retries int
}

// TestReconnectingTwistedDelays drives Reconnecting through the events that
// testdata/twisted_delays.py put Twisted's ReconnectingClientFactory through,
// and checks that it schedules the same delays, but for the documented cap:
// Twisted's jitter can take a delay above maxDelay, Reconnecting waits
// MaxDelay then (and the next delay is the same as Twisted's, as both grow
// from at least maxDelay).
func TestReconnectingTwistedDelays(t *testing.T) {
	for _, tc := range twistedCases {
		t.Run(tc.name, func(t *testing.T) {
			norm, used := zs(t, tc.z...)
			f := &factory.Reconnecting{
				InitialDelay: secs(tc.initialDelay),
				MaxDelay:     secs(tc.maxDelay),
				Factor:       tc.factor,
				Jitter:       tc.jitter,
				MaxRetries:   tc.maxRetries,
				NormFloat64:  norm,
			}
			maxDelay := secs(tc.maxDelay)
			if maxDelay == 0 {
				maxDelay = factory.DefaultMaxDelay
			}
			c := newFakeConnector()
			f.StartedConnecting(c)
			capped := 0
			for i, step := range tc.steps {
				switch step.event {
				case "fail":
					f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
				case "lost":
					f.ClientConnectionLost(c, errLost)
				case "reset":
					f.ResetDelay()
				default:
					t.Fatalf("step %d: unknown event %q", i, step.event)
				}
				if got := f.Retries(); got != step.retries {
					t.Errorf("step %d (%s): Retries() = %d, want %d", i, step.event, got, step.retries)
				}
				if step.delay < 0 {
					expectNoRetry(t, f, c)
					continue
				}
				want := secs(step.delay)
				if want > maxDelay {
					want = maxDelay
					capped++
				}
				expectRetry(t, f, c, want)
			}
			if !used() {
				t.Error("not every z value was used")
			}
			if len(tc.z) > 0 && tc.jitter >= 0 && capped == 0 {
				t.Error("no delay went above MaxDelay: the case does not test the cap")
			}
		})
	}
}

func TestReconnectingZeroValue(t *testing.T) {
	var f factory.Reconnecting
	if got := f.Delay(); got != factory.DefaultInitialDelay {
		t.Errorf("Delay() = %v, want %v", got, factory.DefaultInitialDelay)
	}
	if !f.Trying() {
		t.Error("Trying() = false, want true")
	}
	if f.RetryPending() {
		t.Error("RetryPending() = true, want false")
	}
	f.StopTrying() // no connector yet: nothing to stop
	f.StartTrying()

	// The default jitter, drawn from math/rand/v2: e s ± 0.12e s; a delay
	// outside 10 standard deviations would be a bug.
	c := newFakeConnector()
	for range 20 {
		f.ResetDelay()
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		got := pending(t, c.clock).Seconds()
		if sd := math.E * factory.DefaultJitter; math.Abs(got-math.E) > 10*sd {
			t.Fatalf("first delay %v s, want e ± %v", got, sd)
		}
		c.clock.Advance(time.Hour)
	}
	if c.connects != 20 {
		t.Errorf("Connect called %d times, want 20", c.connects)
	}
}

func TestReconnectingDefaults(t *testing.T) {
	if factory.DefaultFactor != 2.7182818284590451 {
		t.Errorf("DefaultFactor = %v, want Twisted's 2.7182818284590451", factory.DefaultFactor)
	}
	if factory.DefaultJitter != 0.119626565582 {
		t.Errorf("DefaultJitter = %v, want Twisted's 0.119626565582", factory.DefaultJitter)
	}
	if factory.DefaultInitialDelay != time.Second || factory.DefaultMaxDelay != 3600*time.Second {
		t.Errorf("DefaultInitialDelay, DefaultMaxDelay = %v, %v, want 1s, 1h", factory.DefaultInitialDelay, factory.DefaultMaxDelay)
	}

	// Negative values mean the defaults too, but for Jitter (off) and
	// MaxRetries (no retry).
	norm, _ := zs(t, 1)
	f := &factory.Reconnecting{InitialDelay: -1, MaxDelay: -1, Factor: -1, NormFloat64: norm}
	c := newFakeConnector()
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, f, c, secs(math.E*(1+factory.DefaultJitter)))
}

// TestReconnectingFirstRetry: the first retry waits InitialDelay×Factor, as
// in Twisted.
func TestReconnectingFirstRetry(t *testing.T) {
	f := &factory.Reconnecting{InitialDelay: 3 * time.Second, Factor: 2, Jitter: -1}
	c := newFakeConnector()
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, f, c, 6*time.Second)
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, f, c, 12*time.Second)
}

// TestReconnectingInitialDelayAtOnce: a changed InitialDelay takes effect
// before the first retry and after a ResetDelay, not during a backoff.
func TestReconnectingInitialDelayAtOnce(t *testing.T) {
	f := &factory.Reconnecting{Factor: 2, Jitter: -1}
	c := newFakeConnector()
	f.StartedConnecting(c)
	f.InitialDelay = 5 * time.Second
	if got := f.Delay(); got != 5*time.Second {
		t.Errorf("Delay() after setting InitialDelay = %v, want 5s", got)
	}
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, f, c, 10*time.Second)

	f.InitialDelay = time.Second // during the backoff: not yet
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, f, c, 20*time.Second)

	f.ResetDelay()
	if got := f.Delay(); got != time.Second {
		t.Errorf("Delay() after ResetDelay = %v, want the new InitialDelay 1s", got)
	}
	f.ClientConnectionLost(c, errLost)
	expectRetry(t, f, c, 2*time.Second)
}

// TestReconnectingResetDelay: a connection that flaps starts its backoff
// again when the factory resets it on success, and keeps growing it, and
// counting retries against MaxRetries, when it does not.
func TestReconnectingResetDelay(t *testing.T) {
	e := math.E
	tests := []struct {
		name  string
		reset bool
		want  []float64 // the delay after each event; -1: no retry
	}{
		{"with ResetDelay", true, []float64{e, e, e * e, e}},
		{"without ResetDelay", false, []float64{e, e * e, e * e * e, -1}},
	}
	events := []string{"fail", "lost", "fail", "lost"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &factory.Reconnecting{Jitter: -1, MaxRetries: 3}
			c := newFakeConnector()
			f.StartedConnecting(c)
			for i, ev := range events {
				if ev == "lost" {
					// The retry connected; the connection is lost.
					if tt.reset {
						f.ResetDelay()
						if f.Retries() != 0 || f.Delay() != time.Second {
							t.Errorf("after ResetDelay: Retries() = %d, Delay() = %v, want 0, 1s", f.Retries(), f.Delay())
						}
					}
					f.ClientConnectionLost(c, errLost)
				} else {
					f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
				}
				if tt.want[i] < 0 {
					expectNoRetry(t, f, c)
				} else {
					expectRetry(t, f, c, secs(tt.want[i]))
				}
			}
		})
	}
}

// TestReconnectingResetDelayInBuildProtocol: the documented place for
// ResetDelay, in a factory that embeds Reconnecting.
func TestReconnectingResetDelayInBuildProtocol(t *testing.T) {
	f := &reconnectingFactory{}
	f.Jitter = -1
	c := newFakeConnector()
	var cf factory.ClientFactory = f
	cf.StartedConnecting(c)
	cf.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, &f.Reconnecting, c, secs(math.E))
	cf.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, &f.Reconnecting, c, secs(math.E*math.E))
	cf.BuildProtocol(c.Destination()) // the retry connected
	cf.ClientConnectionLost(c, errLost)
	expectRetry(t, &f.Reconnecting, c, secs(math.E))
	if f.Retries() != 1 || f.built != 1 {
		t.Errorf("Retries() = %d, built %d, want 1, 1", f.Retries(), f.built)
	}
}

// TestReconnectingJitterBounds: a jittered delay above MaxDelay waits
// MaxDelay; one below zero is replaced by the delay without jitter, and the
// backoff goes on growing from it.
func TestReconnectingJitterBounds(t *testing.T) {
	t.Run("above MaxDelay", func(t *testing.T) {
		norm, used := zs(t, 5, 5, -1)
		f := &factory.Reconnecting{InitialDelay: 4 * time.Second, Factor: 2, MaxDelay: 10 * time.Second, Jitter: 0.5, NormFloat64: norm}
		c := newFakeConnector()
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 10*time.Second) // 8 + 8×0.5×5 = 28
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 10*time.Second) // min(20, 10) + 10×0.5×5 = 35
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 5*time.Second) // 10 - 10×0.5
		if !used() {
			t.Error("not every z value was used")
		}
	})
	t.Run("above MaxDelay, shrinking", func(t *testing.T) {
		// The next delay grows (here: shrinks) from MaxDelay, not from the
		// jittered delay above it.
		norm, used := zs(t, 5, 0)
		f := &factory.Reconnecting{InitialDelay: 100 * time.Second, Factor: 0.5, MaxDelay: 10 * time.Second, Jitter: 0.5, NormFloat64: norm}
		c := newFakeConnector()
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 10*time.Second) // min(50, 10) + 10×0.5×5 = 35
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 5*time.Second) // 10×0.5
		if !used() {
			t.Error("not every z value was used")
		}
	})
	t.Run("below zero", func(t *testing.T) {
		norm, used := zs(t, -3, -1.5, 1)
		f := &factory.Reconnecting{Factor: 2, Jitter: 0.5, NormFloat64: norm}
		c := newFakeConnector()
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 2*time.Second) // 2 - 2×0.5×3 < 0: 2
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, time.Second) // 4 - 4×0.5×1.5
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 3*time.Second) // 2 + 2×0.5
		if !used() {
			t.Error("not every z value was used")
		}
	})
	t.Run("zero", func(t *testing.T) {
		norm, used := zs(t, -2, 0)
		f := &factory.Reconnecting{Factor: 2, Jitter: 0.5, NormFloat64: norm}
		c := newFakeConnector()
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 2*time.Second) // 2 - 2×0.5×2 = 0: 2
		f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		expectRetry(t, f, c, 4*time.Second)
		if !used() {
			t.Error("not every z value was used")
		}
	})
}

// TestReconnectingStopTrying: StopTrying cancels the pending retry, and no
// failure or loss reported after it schedules one.
func TestReconnectingStopTrying(t *testing.T) {
	f := &factory.Reconnecting{Jitter: -1}
	c := newFakeConnector()
	f.StartedConnecting(c)
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	if n := len(c.clock.Calls()); n != 1 {
		t.Fatalf("%d calls pending, want 1", n)
	}
	f.StopTrying()
	if f.Trying() {
		t.Error("Trying() = true after StopTrying")
	}
	if c.stopConnecting != 1 {
		t.Errorf("StopConnecting called %d times, want 1", c.stopConnecting)
	}
	expectNoRetry(t, f, c)

	// Late reports.
	f.ClientConnectionLost(c, errLost)
	expectNoRetry(t, f, c)
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectNoRetry(t, f, c)
	f.Retry(c)
	expectNoRetry(t, f, c)
	if f.Retries() != 1 {
		t.Errorf("Retries() = %d, want 1 (no retry counted after StopTrying)", f.Retries())
	}
}

// TestReconnectingStopTryingDuringAttempt: StopTrying during the first
// attempt stops it, and the failure the connector reports from inside
// StopConnecting is not retried (Twisted's #4846).
func TestReconnectingStopTryingDuringAttempt(t *testing.T) {
	f := &factory.Reconnecting{}
	c := newFakeConnector()
	c.onStopConnecting = func() {
		f.ClientConnectionFailed(c, transport.ErrUserCancelled)
	}
	f.StartedConnecting(c)
	f.StopTrying()
	if c.stopConnecting != 1 {
		t.Errorf("StopConnecting called %d times, want 1", c.stopConnecting)
	}
	expectNoRetry(t, f, c)
	if f.Retries() != 0 {
		t.Errorf("Retries() = %d, want 0", f.Retries())
	}
}

// TestReconnectingResetDelayAfterStopTrying: unlike Twisted's resetDelay,
// ResetDelay does not undo StopTrying; StartTrying does.
func TestReconnectingResetDelayAfterStopTrying(t *testing.T) {
	f := &reconnectingFactory{}
	f.Jitter = -1
	c := newFakeConnector()
	f.StartedConnecting(c)
	f.StopTrying()
	f.BuildProtocol(c.Destination()) // an attempt that connected all the same
	if f.Trying() {
		t.Error("Trying() = true after StopTrying and ResetDelay")
	}
	f.ClientConnectionLost(c, errLost)
	expectNoRetry(t, &f.Reconnecting, c)

	f.StartTrying()
	if !f.Trying() {
		t.Error("Trying() = false after StartTrying")
	}
	f.ResetDelay()
	f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
	expectRetry(t, &f.Reconnecting, c, secs(math.E))
}

// TestReconnectingMaxRetries: MaxRetries retries follow one another, then
// none; ResetDelay allows as many again.
func TestReconnectingMaxRetries(t *testing.T) {
	tests := []struct {
		maxRetries int
		retries    int
	}{
		{-1, 0},
		{1, 1},
		{4, 4},
		{0, 30}, // no limit: as many as the test makes
	}
	for _, tt := range tests {
		f := &factory.Reconnecting{MaxRetries: tt.maxRetries, Jitter: -1, MaxDelay: time.Minute}
		c := newFakeConnector()
		for round := range 2 {
			for range tt.retries {
				f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
				if !f.RetryPending() {
					t.Fatalf("MaxRetries %d, round %d: no retry after %d", tt.maxRetries, round, f.Retries()-1)
				}
				c.clock.Advance(time.Minute)
			}
			if tt.maxRetries != 0 {
				f.ClientConnectionLost(c, errLost)
				expectNoRetry(t, f, c)
				if f.Retries() != tt.retries+1 {
					t.Errorf("MaxRetries %d: Retries() = %d, want %d", tt.maxRetries, f.Retries(), tt.retries+1)
				}
			}
			if c.connects != (round+1)*tt.retries {
				t.Errorf("MaxRetries %d, round %d: Connect called %d times, want %d", tt.maxRetries, round, c.connects, (round+1)*tt.retries)
			}
			f.ResetDelay()
		}
	}
}

// TestReconnectingOnePending: Retry replaces a pending retry, and a retry
// left pending by ResetDelay is still cancelled by StopTrying.
func TestReconnectingOnePending(t *testing.T) {
	f := &factory.Reconnecting{Jitter: -1}
	c := newFakeConnector()
	f.Retry(c)
	f.Retry(c)
	if got := pending(t, c.clock); !near(got, secs(math.E*math.E)) {
		t.Errorf("pending retry in %v, want e² s", got)
	}
	f.ResetDelay()
	if !f.RetryPending() {
		t.Error("ResetDelay dropped the pending retry")
	}
	f.StopTrying()
	expectNoRetry(t, f, c)
}

// TestReconnectingRetryNil: Retry(nil) retries the connector last seen, and
// panics when there is none.
func TestReconnectingRetryNil(t *testing.T) {
	f := &factory.Reconnecting{Jitter: -1}
	c := newFakeConnector()
	f.StartedConnecting(c)
	f.Retry(nil)
	expectRetry(t, f, c, secs(math.E))

	defer func() {
		if recover() == nil {
			t.Error("Retry(nil) with no connector did not panic")
		}
	}()
	(&factory.Reconnecting{}).Retry(nil)
}

// TestReconnectingClock: the retry is scheduled on Clock when it is set.
func TestReconnectingClock(t *testing.T) {
	clock := transporttest.NewClock()
	f := &factory.Reconnecting{Jitter: -1, Clock: clock}
	c := newFakeConnector()
	f.ClientConnectionLost(c, errLost)
	if n := len(c.clock.Calls()); n != 0 {
		t.Errorf("%d calls on the connector's clock, want 0", n)
	}
	clock.Advance(secs(math.E))
	if c.connects != 1 {
		t.Errorf("Connect called %d times, want 1", c.connects)
	}
}

// lossLogger overrides ClientConnectionLost and calls the embedded one.
type lossLogger struct {
	factory.Reconnecting
	reasons []error
}

func (f *lossLogger) BuildProtocol(net.Addr) protocol.Protocol { return &counter{} }

func (f *lossLogger) ClientConnectionLost(c factory.Connector, reason error) {
	f.reasons = append(f.reasons, reason)
	f.Reconnecting.ClientConnectionLost(c, reason)
}

func TestReconnectingOverride(t *testing.T) {
	f := &lossLogger{}
	f.Jitter = -1
	var cf factory.ClientFactory = f
	c := newFakeConnector()
	cf.ClientConnectionLost(c, errLost)
	if len(f.reasons) != 1 || f.reasons[0] != errLost {
		t.Errorf("override saw %v, want [%v]", f.reasons, errLost)
	}
	expectRetry(t, &f.Reconnecting, c, secs(math.E))
}
