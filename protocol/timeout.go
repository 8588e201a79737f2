package protocol

import (
	"fmt"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// TimeoutHandler is what [Timeout.Bind] needs: the protocol itself. A struct
// that embeds [Base] (directly or through a base such as [LineReceiver]) and
// [Timeout] has both methods already: Transport from Base, and
// TimeoutConnection from Timeout, unless the struct defines its own.
type TimeoutHandler interface {
	// Transport returns the connection's transport (see [Base.Transport]).
	// Loop goroutine.
	Transport() transport.Transport
	// TimeoutConnection is called when the timeout expires (see
	// [Timeout.TimeoutConnection]). Loop goroutine.
	TimeoutConnection()
}

// Timeout closes a connection that stays quiet for too long: Twisted's
// policies.TimeoutMixin. A protocol embeds it beside its base (MakeConnection
// binds it to the protocol), arms it with SetTimeout, and calls ResetTimeout
// whenever something happens that should keep the connection alive:
//
//	type Session struct {
//		protocol.LineReceiver
//		protocol.Timeout
//	}
//
//	func (s *Session) ConnectionMade() {
//		s.SetTimeout(30 * time.Second)
//	}
//
//	func (s *Session) LineReceived(line []byte) {
//		s.ResetTimeout()
//		// ...
//	}
//
//	func (s *Session) ConnectionLost(reason error) { s.SetTimeout(0) }
//
// When the countdown runs out, the protocol's TimeoutConnection is called.
// The default, [Timeout.TimeoutConnection], closes the connection with
// LoseConnection; a protocol that wants something else (a goodbye message,
// AbortConnection) defines its own TimeoutConnection, and may still call
// s.Timeout.TimeoutConnection() from it.
//
// # Binding
//
// A method of an embedded struct cannot reach the struct that embeds it, and
// Timeout must not embed Base itself: a protocol that embedded both a base
// (which embeds Base) and a Timeout with a Base of its own would have two
// Transport methods and two ConnectionMade at different depths, one silently
// hiding the other. So Timeout has only methods of its own names and holds no
// transport; it reaches the transport and the protocol's TimeoutConnection
// through the protocol, which [MakeConnection] hands it (see [Timeout.Bind]).
// Arming a Timeout that has no protocol, or whose protocol has no transport
// yet, panics with [ErrTimeoutNotBound], so the mistake shows at once instead
// of leaving a connection without its timeout.
//
// # Timers and goroutines
//
// The countdown is a call scheduled on the connection's loop
// (Transport().Loop().CallLater), so TimeoutConnection runs on the loop,
// serialized with the protocol's other callbacks; under
// transporttest it runs when the test advances the transport's fake clock.
// Every method of Timeout must be called on the connection's loop goroutine:
// Timeout has no lock of its own.
//
// # After the connection closed
//
// A protocol should disarm its timeout in ConnectionLost with SetTimeout(0),
// as with Twisted's mixin: a countdown left running fires later, once. If it
// does, the default TimeoutConnection is harmless (LoseConnection on a closed
// transport does nothing); a TimeoutConnection of the protocol's own runs
// too, and should expect the connection to be gone (writes then return
// transport.ErrClosed).
//
// Timeout measures whatever the protocol counts as activity. For a plain
// "nothing received for d" rule the reactor has WithReadIdleTimeout, which
// needs no code in the protocol.
//
// The zero value is ready to use, unbound and disarmed.
type Timeout struct {
	owner  TimeoutHandler
	period time.Duration
	call   transport.DelayedCall // pending countdown; nil when disarmed or fired
	fire   func()                // t.timedOut, made once by Bind
}

// Bind gives the Timeout the protocol that embeds it, so that it can reach
// the connection's transport and the protocol's TimeoutConnection.
// [MakeConnection] (and [Wire]) bind it by themselves when the protocol embeds
// both a base and Timeout, so a protocol just calls SetTimeout in
// ConnectionMade:
//
//	func (s *Session) ConnectionMade() {
//		s.SetTimeout(30 * time.Second)
//	}
//
// Bind is for a Timeout used outside MakeConnection, or owned by another
// value. Binding again replaces the protocol; a pending countdown then fires
// on the new one. Loop goroutine.
func (t *Timeout) Bind(p TimeoutHandler) {
	t.owner = p
	if t.fire == nil {
		t.fire = t.timedOut
	}
}

// bindTimeout is Wire's hook: it binds the Timeout to the outer protocol.
func (t *Timeout) bindTimeout(p Protocol) {
	if h, ok := p.(TimeoutHandler); ok {
		t.Bind(h)
	}
}

// SetTimeout sets the timeout to d and returns the previous one (0 if there
// was none), as Twisted's setTimeout does. A positive d (re)starts the
// countdown from now: a countdown already running is reset to d, one that ran
// out is started again. A d of 0 or less disarms the timeout: the pending
// call is cancelled and ResetTimeout does nothing until the next SetTimeout.
//
// Arming (d > 0) panics with an error matching [ErrTimeoutNotBound] if
// [Timeout.Bind] was not called or the protocol has no transport yet;
// disarming never panics, so ConnectionLost may call SetTimeout(0) in any
// case. Loop goroutine.
func (t *Timeout) SetTimeout(d time.Duration) time.Duration {
	prev := t.period
	if d <= 0 {
		t.period = 0
		if t.call != nil {
			_ = t.call.Cancel() // an error only says it is no longer pending
			t.call = nil
		}
		return prev
	}
	loop := t.loop()
	t.period = d
	if t.call != nil && t.call.Reset(d) == nil {
		return prev
	}
	t.call = loop.CallLater(d, t.fire)
	return prev
}

// ResetTimeout restarts the countdown from now, with the current timeout:
// Twisted's resetTimeout. Call it when the connection shows the activity the
// timeout watches for (a line, a request). It does nothing when the timeout
// is disarmed or has already run out: SetTimeout starts it again. It
// allocates nothing on whirl's loops or transporttest's, so it can be called
// for every line or chunk received. Loop goroutine.
func (t *Timeout) ResetTimeout() {
	if t.call == nil {
		return
	}
	if t.call.Reset(t.period) != nil {
		// No longer pending: it ran or was cancelled behind our back.
		t.call = nil
	}
}

// TimeoutPeriod returns the current timeout: the last positive duration given
// to SetTimeout, also after it ran out, or 0 if disarmed. Loop goroutine.
func (t *Timeout) TimeoutPeriod() time.Duration { return t.period }

// TimeoutConnection is the default reaction to the timeout running out: it
// closes the connection with LoseConnection (buffered output is flushed
// first). A protocol overrides it by defining its own TimeoutConnection; on a
// Timeout that is not bound, or whose protocol has no transport, it does
// nothing. Loop goroutine.
func (t *Timeout) TimeoutConnection() {
	if t.owner == nil {
		return
	}
	if tr := t.owner.Transport(); tr != nil {
		tr.LoseConnection()
	}
}

// timedOut runs on the loop when the countdown runs out.
func (t *Timeout) timedOut() {
	t.call = nil
	t.owner.TimeoutConnection()
}

// loop returns the loop to schedule the countdown on, or panics with
// ErrTimeoutNotBound.
func (t *Timeout) loop() transport.Loop {
	if t.owner == nil {
		panic(fmt.Errorf("%w: call Timeout.Bind(p) first, in ConnectionMade", ErrTimeoutNotBound))
	}
	tr := t.owner.Transport()
	if tr == nil {
		panic(fmt.Errorf("%w: %T has no transport yet (SetTimeout before MakeConnection)", ErrTimeoutNotBound, t.owner))
	}
	return tr.Loop()
}
