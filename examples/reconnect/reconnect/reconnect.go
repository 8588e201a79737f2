package reconnect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/task"
)

// ErrNotConnected is returned by [Factory.Send] while no connection is up:
// the line is not sent, nor kept for later.
var ErrNotConnected = errors.New("reconnect: not connected")

// Factory makes one [Session] per connection and reconnects with Twisted's
// backoff (the embedded factory.Reconnecting: set InitialDelay, MaxDelay,
// Factor, Jitter and MaxRetries there) when a connection is refused or lost.
// It calls ResetDelay as soon as a connection is made, in BuildProtocol, so
// each outage starts from InitialDelay×Factor. Set the fields before
// connecting and leave them alone afterwards. A Factory serves one connector.
type Factory struct {
	factory.Reconnecting

	// Heartbeat, if positive, makes each connection send HeartbeatLine
	// followed by a sequence number ("PING 1", "PING 2", ...) every
	// Heartbeat, starting Heartbeat after it is made.
	Heartbeat time.Duration

	// HeartbeatLine is the start of the heartbeat lines; "" means "PING".
	HeartbeatLine string

	// Delimiter ends each line, received and sent; "" means
	// protocol.DefaultLineDelimiter ("\r\n", as the chat example and
	// Twisted's LineReceiver use).
	Delimiter string

	// Received, if not nil, is called with each line received, without its
	// delimiter, on the connector's loop. The line is valid only during the
	// call.
	Received func(line []byte)

	// Log gets a line when a connection is made (info); lost or refused,
	// with the retry that follows (warn), or after StopTrying (info); and
	// when MaxRetries makes the factory give up (error). The zero value logs
	// nothing.
	Log zerolog.Logger

	mu       sync.Mutex
	session  *Session // the connection that is up, or nil
	sessions int
	backoff  []Retry
}

// Retry is one retry the factory scheduled, or declined, after a failure or
// a loss.
type Retry struct {
	// Lost is true after a lost connection, false after a failed attempt.
	Lost bool
	// Reason is the reason the reactor gave.
	Reason error
	// Retries is the factory's Retries() after the failure: 1 for the first
	// retry since the last connection.
	Retries int
	// Delay is the wait before the retry (the factory's Delay()).
	Delay time.Duration
	// Pending is false when the factory declined to retry (StopTrying, or
	// MaxRetries reached).
	Pending bool
}

// BuildProtocol resets the backoff (a connection is made) and returns a new
// [Session]. Connector's loop.
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	f.ResetDelay()
	s := &Session{factory: f}
	s.Delimiter = f.Delimiter
	return s
}

// ClientConnectionFailed schedules a retry (the embedded Reconnecting does)
// and records and logs it. Connector's loop.
func (f *Factory) ClientConnectionFailed(c factory.Connector, reason error) {
	f.Reconnecting.ClientConnectionFailed(c, reason)
	f.note(c, false, reason)
}

// ClientConnectionLost schedules a retry (the embedded Reconnecting does)
// and records and logs it. Connector's loop.
func (f *Factory) ClientConnectionLost(c factory.Connector, reason error) {
	f.Reconnecting.ClientConnectionLost(c, reason)
	f.note(c, true, reason)
}

// note records the retry just scheduled (or declined) and logs it.
// Connector's loop.
func (f *Factory) note(c factory.Connector, lost bool, reason error) {
	r := Retry{Lost: lost, Reason: reason, Retries: f.Retries(), Delay: f.Delay(), Pending: f.RetryPending()}
	f.mu.Lock()
	f.backoff = append(f.backoff, r)
	f.mu.Unlock()
	what := "connect failed"
	if lost {
		what = "connection lost"
	}
	switch {
	case !f.Trying(): // StopTrying: a stop asked for, not a failure
		f.Log.Info().Stringer("dest", c.Destination()).AnErr("reason", reason).Msg(what + "; stopped trying")
		return
	case !r.Pending: // MaxRetries
		f.Log.Error().Stringer("dest", c.Destination()).AnErr("reason", reason).Int("retries", r.Retries).Msg(what + "; giving up")
		return
	}
	f.Log.Warn().Stringer("dest", c.Destination()).AnErr("reason", reason).Int("retry", r.Retries).
		Stringer("in", r.Delay.Round(time.Millisecond)).Msg(what + "; retrying")
}

// Send sends line, followed by the delimiter, over the connection that is
// up. It returns ErrNotConnected when none is, and the transport's error if
// the connection is closing. line must not contain the delimiter. Any
// goroutine.
func (f *Factory) Send(line []byte) error {
	f.mu.Lock()
	s := f.session
	f.mu.Unlock()
	if s == nil {
		return ErrNotConnected
	}
	return s.Transport().WriteSequence([][]byte{line, []byte(f.delimiter())})
}

// Connected reports whether a connection is up. Any goroutine.
func (f *Factory) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.session != nil
}

// Sessions returns how many connections were made. Any goroutine.
func (f *Factory) Sessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions
}

// Backoff returns the retries scheduled (or declined) so far, in order. Any
// goroutine.
func (f *Factory) Backoff() []Retry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Retry(nil), f.backoff...)
}

// Connect connects f to desc (a client endpoint string: tcp:HOST:PORT,
// tcp:host=HOST:port=PORT:timeout=T, unix:path=PATH, or host:port) on r, and
// makes r's graceful stop call f.StopTrying first, so that the connection
// closed by the stop is not retried. Any goroutine.
func Connect(ctx context.Context, r *reactor.Reactor, desc string, f *Factory) (*reactor.Connector, error) {
	c, err := r.Connect(ctx, desc, f)
	if err != nil {
		return nil, err
	}
	r.OnShutdown(func(ctx context.Context) error {
		done := make(chan struct{})
		c.Clock().CallLater(0, func() { // StopTrying runs on the connector's loop
			f.StopTrying()
			close(done)
		})
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("reconnect: StopTrying: %w", ctx.Err())
		}
	})
	return c, nil
}

// Session is the protocol of one connection: a [protocol.LineReceiver] that
// hands each line to its factory's Received callback and sends the
// heartbeat. Sessions are made by [Factory.BuildProtocol]; every method
// runs on the connection's loop, which is the connector's.
type Session struct {
	protocol.LineReceiver

	factory *Factory
	beat    *task.LoopingCall // nil without a heartbeat
	beats   int
}

var _ protocol.LineHandler = (*Session)(nil)

// ConnectionMade makes s the factory's session and starts the heartbeat.
// Loop goroutine.
func (s *Session) ConnectionMade() {
	f := s.factory
	f.mu.Lock()
	f.session = s
	f.sessions++
	n := f.sessions
	f.mu.Unlock()
	t := s.Transport()
	f.Log.Info().Stringer("peer", t.RemoteAddr()).Int("session", n).Msg("connected")
	if f.Heartbeat > 0 {
		s.beat = task.NewLoopingCall(t.Loop(), s.heartbeat)
		_ = s.beat.Start(f.Heartbeat, false)
	}
}

// heartbeat sends the next heartbeat line. Loop goroutine.
func (s *Session) heartbeat() {
	s.beats++
	word := s.factory.HeartbeatLine
	if word == "" {
		word = "PING"
	}
	_ = s.SendLine(fmt.Appendf(nil, "%s %d", word, s.beats))
}

// LineReceived hands line to the factory's Received callback. Loop
// goroutine.
func (s *Session) LineReceived(line []byte) {
	if fn := s.factory.Received; fn != nil {
		fn(line)
	}
}

// ConnectionLost stops the heartbeat and leaves the factory without a
// session; the factory's ClientConnectionLost, called next, schedules the
// retry. Loop goroutine.
func (s *Session) ConnectionLost(reason error) {
	if s.beat != nil {
		_ = s.beat.Stop()
	}
	f := s.factory
	f.mu.Lock()
	if f.session == s {
		f.session = nil
	}
	f.mu.Unlock()
}

// delimiter returns the line delimiter in use. Any goroutine.
func (f *Factory) delimiter() string {
	if f.Delimiter == "" {
		return protocol.DefaultLineDelimiter
	}
	return f.Delimiter
}
