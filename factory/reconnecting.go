package factory

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// The defaults of [Reconnecting], Twisted's values.
const (
	// DefaultInitialDelay is the delay a backoff starts from.
	DefaultInitialDelay = time.Second
	// DefaultMaxDelay is the longest wait between two attempts.
	DefaultMaxDelay = time.Hour
	// DefaultFactor is what the delay is multiplied by at each retry: e.
	DefaultFactor float64 = math.E
	// DefaultJitter is the standard deviation of a delay's jitter, as a
	// fraction of the delay (Twisted's value).
	DefaultJitter float64 = 0.119626565582
)

// Reconnecting is a client factory that reconnects after a failed attempt or
// a lost connection, waiting longer each time (exponential backoff): Twisted's
// ReconnectingClientFactory, with its parameters and formula. Embed it and
// write BuildProtocol, calling [Reconnecting.ResetDelay] there:
//
//	type Factory struct{ factory.Reconnecting }
//
//	func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
//		f.ResetDelay() // connected: the next loss starts from InitialDelay
//		return &Client{}
//	}
//
// The zero value is ready to use; set the fields before the first
// Connector.Connect and leave them alone afterwards, except as said of
// InitialDelay. A Reconnecting serves one connector at a time. A factory that
// overrides StartedConnecting, ClientConnectionFailed or ClientConnectionLost
// calls the embedded method from its own (f.Reconnecting.ClientConnectionLost(c,
// reason)), or it stops reconnecting.
//
// # The delays
//
// Each retry multiplies the current delay by Factor, caps it at MaxDelay, then
// adds a jitter drawn from a normal distribution centred on it with a
// standard deviation of Jitter times it, and calls Connect on the connector
// when that delay has passed. The current delay starts at InitialDelay, so
// the first retry waits InitialDelay×Factor, not InitialDelay (with the
// defaults and no jitter: e, e², e³ … seconds, then an hour); the jittered
// delay is what the next retry grows from, as in Twisted.
//
// Where Twisted has known pitfalls, Reconnecting does this:
//
//   - A changed InitialDelay takes effect at once: until the first retry
//     (and again after ResetDelay) the current delay is InitialDelay as it is
//     then. Twisted reads initialDelay only in resetDelay, so unless that
//     was called first, its first delay grows from 1 s whatever initialDelay
//     was set to. During a backoff, InitialDelay matters only from the next
//     ResetDelay.
//   - Nothing resets the backoff on its own. Call ResetDelay when a
//     connection succeeds, in BuildProtocol or in the protocol's
//     ConnectionMade; without it, each flap of a connection waits longer than
//     the last, and MaxRetries counts retries across successful connections.
//   - The wait never exceeds MaxDelay: a jittered delay above it is cut to
//     MaxDelay (Twisted waits longer). A jittered delay of zero or less,
//     possible with a large Jitter, is dropped and the delay without jitter
//     is used (Twisted's reactor refuses a negative delay with an assertion;
//     cutting it to zero would retry at once and keep every later delay at
//     zero). A large Jitter also draws small positive delays now and then,
//     from which the backoff grows again slowly, as in Twisted: keep Jitter
//     small.
//   - After StopTrying, no failure or loss schedules a retry, however late
//     it is reported.
//   - ResetDelay does not undo StopTrying (Twisted's resetDelay does, so a
//     connection that completes after stopTrying and calls resetDelay in
//     buildProtocol silently turns reconnection back on). Call StartTrying
//     to retry again.
//   - At most one retry is pending: Retry replaces a pending one, and
//     ResetDelay leaves it pending and cancellable by StopTrying (Twisted's
//     resetDelay forgets it, and a later stopTrying cannot cancel it).
//
// # Goroutines
//
// Every method runs on the connector's loop, the goroutine its callbacks run
// on, as the factory's own fields are not guarded; the scheduled retry runs
// there too, on the loop's clock.
type Reconnecting struct {
	ClientBase

	// InitialDelay is the delay the backoff starts from; zero or less means
	// DefaultInitialDelay (1 s). The first retry waits InitialDelay×Factor.
	InitialDelay time.Duration

	// MaxDelay is the longest wait between attempts, jitter included; zero
	// or less means DefaultMaxDelay (1 h).
	MaxDelay time.Duration

	// Factor multiplies the delay at each retry; zero or less means
	// DefaultFactor (e). A factor below 1 makes the delays shrink.
	Factor float64

	// Jitter is the standard deviation of each delay's random part, as a
	// fraction of the delay; zero means DefaultJitter (0.119626565582). A
	// negative Jitter turns jitter off (Twisted's jitter = 0).
	Jitter float64

	// MaxRetries is how many retries may follow one another without a
	// ResetDelay; then a failure or loss is not retried. Zero means no
	// limit, and a negative value no retry at all. This differs from
	// Twisted, where None means no limit and 0 means no retry.
	MaxRetries int

	// Clock schedules the retries; nil means the connector's Clock, which
	// is what a program wants. A test may set a fake clock; its calls must
	// run on the goroutine the connector's callbacks run on.
	Clock transport.Clock

	// NormFloat64 returns the standard normal deviates that jitter is drawn
	// from (delay + delay×Jitter×NormFloat64()); nil means math/rand/v2's
	// NormFloat64. Tests set it to make jitter reproducible.
	NormFloat64 func() float64

	delay     float64 // current delay in seconds, once grown is true
	grown     bool    // a retry set delay since the last ResetDelay
	retries   int
	stopped   bool
	connector Connector
	call      transport.DelayedCall // the pending retry, or nil
}

// StartedConnecting records c as the connector to stop in StopTrying (Twisted
// learns it only at the first failure, so its stopTrying cannot stop a first
// attempt). Connector's loop.
func (f *Reconnecting) StartedConnecting(c Connector) {
	f.connector = c
}

// ClientConnectionFailed schedules a retry with [Reconnecting.Retry], unless
// StopTrying was called. Connector's loop.
func (f *Reconnecting) ClientConnectionFailed(c Connector, reason error) {
	f.connector = c
	if !f.stopped {
		f.Retry(c)
	}
}

// ClientConnectionLost schedules a retry with [Reconnecting.Retry], unless
// StopTrying was called. Connector's loop.
func (f *Reconnecting) ClientConnectionLost(c Connector, reason error) {
	f.connector = c
	if !f.stopped {
		f.Retry(c)
	}
}

// Retry makes c connect again after the next delay of the backoff (see
// [Reconnecting]), replacing a retry already pending. It does nothing after
// StopTrying, nor once MaxRetries retries followed one another since the last
// ResetDelay (the attempt is still counted in Retries). A nil c means the
// connector last given to the factory; Retry panics if there is none.
// Connector's loop.
func (f *Reconnecting) Retry(c Connector) {
	if c == nil {
		c = f.connector
		if c == nil {
			panic("factory: Reconnecting.Retry with no connector")
		}
	}
	f.connector = c
	if f.stopped {
		return
	}
	f.retries++
	if f.MaxRetries != 0 && f.retries > max(f.MaxRetries, 0) {
		return
	}

	maxDelay := f.maxDelay()
	ceiling := maxDelay.Seconds()
	delay := f.delay
	if !f.grown {
		delay = f.initialDelay().Seconds()
	}
	delay = min(delay*f.factor(), ceiling)
	if jitter := f.jitter(); jitter > 0 {
		norm := f.NormFloat64
		if norm == nil {
			norm = rand.NormFloat64
		}
		switch jittered := delay + delay*jitter*norm(); {
		case jittered > ceiling:
			delay = ceiling
		case jittered > 0:
			delay = jittered
		}
	}
	f.delay, f.grown = delay, true

	if f.call != nil {
		_ = f.call.Cancel()
	}
	clock := f.Clock
	if clock == nil {
		clock = c.Clock()
	}
	var call transport.DelayedCall
	call = clock.CallLater(duration(delay, maxDelay), func() {
		if f.call == call {
			f.call = nil
		}
		c.Connect()
	})
	f.call = call
}

// ResetDelay starts the backoff again: the current delay goes back to
// InitialDelay and Retries to zero. Call it when a connection succeeds, in
// BuildProtocol or the protocol's ConnectionMade. It neither cancels a pending
// retry nor undoes StopTrying. Connector's loop.
func (f *Reconnecting) ResetDelay() {
	f.delay, f.grown = 0, false
	f.retries = 0
}

// StopTrying stops reconnecting: it cancels the pending retry, if any, and
// stops the attempt in progress, if any, with the connector's StopConnecting
// (the factory then gets ClientConnectionFailed and does not retry). A
// connection that is up stays up; Connector.Disconnect closes it. Only
// StartTrying undoes StopTrying. Connector's loop.
func (f *Reconnecting) StopTrying() {
	f.stopped = true
	if f.call != nil {
		_ = f.call.Cancel()
		f.call = nil
	}
	if f.connector != nil {
		f.connector.StopConnecting()
	}
}

// StartTrying undoes StopTrying: the next failure or loss schedules a retry
// again. It neither connects (call Connector.Connect for that) nor resets the
// backoff (call ResetDelay). Connector's loop.
func (f *Reconnecting) StartTrying() {
	f.stopped = false
}

// Trying reports whether the factory retries after a failure or a loss:
// false from StopTrying until StartTrying (Twisted's continueTrying).
// Connector's loop.
func (f *Reconnecting) Trying() bool {
	return !f.stopped
}

// RetryPending reports whether a retry is scheduled and has not run yet.
// Called after the embedded ClientConnectionFailed or ClientConnectionLost,
// false means the factory gave up (StopTrying or MaxRetries). Connector's
// loop.
func (f *Reconnecting) RetryPending() bool {
	return f.call != nil
}

// Delay returns the current delay: the wait of the retry last scheduled, or
// InitialDelay (as it is now) before the first retry and after ResetDelay.
// Connector's loop.
func (f *Reconnecting) Delay() time.Duration {
	if !f.grown {
		return f.initialDelay()
	}
	return duration(f.delay, f.maxDelay())
}

// Retries returns how many retries were asked for since the last ResetDelay,
// including those refused because of MaxRetries (Twisted's retries).
// Connector's loop.
func (f *Reconnecting) Retries() int {
	return f.retries
}

func (f *Reconnecting) initialDelay() time.Duration {
	if f.InitialDelay <= 0 {
		return DefaultInitialDelay
	}
	return f.InitialDelay
}

func (f *Reconnecting) maxDelay() time.Duration {
	if f.MaxDelay <= 0 {
		return DefaultMaxDelay
	}
	return f.MaxDelay
}

func (f *Reconnecting) factor() float64 {
	if f.Factor <= 0 {
		return DefaultFactor
	}
	return f.Factor
}

func (f *Reconnecting) jitter() float64 {
	if f.Jitter == 0 {
		return DefaultJitter
	}
	return f.Jitter
}

// duration converts a delay in seconds, at most maxDelay, to the nearest
// nanosecond.
func duration(seconds float64, maxDelay time.Duration) time.Duration {
	if seconds >= maxDelay.Seconds() {
		return maxDelay
	}
	return time.Duration(math.Round(seconds * float64(time.Second)))
}
