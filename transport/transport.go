package transport

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// Transport is one connection as its protocol sees it: Twisted's ITransport
// and ITCPTransport.
//
// Every method is safe to call from any goroutine. On the connection's own
// loop, Write takes the fast path: the bytes are appended to the connection's
// buffer and flushed, with everything else written in the same callback, in one
// system call when the callback returns.
type Transport interface {
	// Write copies p into the connection's output buffer and returns len(p)
	// and nil. It returns 0 and ErrClosed once the connection is closed or
	// closing (or its write side was shut with LoseWriteConnection), and 0
	// and an error matching ErrWriteBufferOverflow when p would take the
	// buffered output past the hard cap: the connection is then aborted with
	// that reason. Bytes are sent in the order of the Write calls; bytes of
	// one call are never split by another call's. Any goroutine.
	io.Writer

	// WriteSequence writes the buffers in order, as one Write of their
	// concatenation would, with Write's errors. Any goroutine.
	WriteSequence(bufs [][]byte) error

	// LoseConnection closes the connection cleanly: no more data is delivered
	// to the protocol, everything already written is flushed, then a FIN is
	// sent and the connection closed; ConnectionLost gets a reason matching
	// ErrConnectionDone. The flush waits as long as the output keeps moving; a
	// peer that stops reading for too long gets the connection aborted. The
	// reactor then lingers before it closes the socket (reading and
	// discarding until the peer's FIN, or until the peer acknowledged every
	// byte, bounded by its linger timeout), so that no reset drops output the
	// peer has not received; a linger that times out with bytes unacknowledged
	// is reported as ErrConnectionLost wrapping ErrLingerTimeout. Calling it
	// again does nothing. Any goroutine.
	LoseConnection()

	// LoseWriteConnection closes the write side only (Twisted's
	// ITCPTransport.loseWriteConnection): everything already written is
	// flushed, then a FIN is sent, and reading goes on. A protocol that
	// implements protocol.HalfCloseable gets WriteConnectionLost once the
	// FIN is sent. Later writes fail with ErrClosed. The connection closes
	// when the peer's FIN arrives too. Any goroutine.
	LoseWriteConnection()

	// CloseWithError closes the connection because of err, a fault of the
	// peer's (bad input, a protocol violation: what a receiver finds).
	// Nothing more is delivered to the protocol; what was already written is
	// flushed as by LoseConnection (so a last error message reaches the
	// peer), then the connection closes, and ConnectionLost gets a reason
	// that matches both ErrConnectionAborted and err under errors.Is. The
	// reactor logs it once, at warn level, with the peer's address. A nil
	// err is LoseConnection. Once the connection is closing (LoseConnection,
	// AbortConnection or CloseWithError called before), it does nothing.
	// Any goroutine.
	CloseWithError(err error)

	// AbortConnection closes the connection at once, dropping buffered output
	// and sending a reset; ConnectionLost gets a reason matching
	// ErrConnectionAborted. Any goroutine.
	AbortConnection()

	// RemoteAddr is the peer's address. It stays valid after the connection
	// closed. Any goroutine.
	RemoteAddr() net.Addr

	// LocalAddr is this side's address. It stays valid after the connection
	// closed. Any goroutine.
	LocalAddr() net.Addr

	// SetTCPNoDelay turns Nagle's algorithm off (true) or on. It returns
	// ErrClosed after close and ErrNotSupported where the transport is not
	// TCP. Any goroutine.
	SetTCPNoDelay(noDelay bool) error

	// SetTCPKeepAlive turns TCP keep-alive on with the given idle time, probe
	// interval and probe count (idle 0 turns it off). It returns ErrClosed
	// after close and ErrNotSupported where the transport is not TCP. Any
	// goroutine.
	SetTCPKeepAlive(idle, interval time.Duration, count int) error

	// Connected reports whether the connection is open and not closing.
	// Any goroutine.
	Connected() bool

	// Disconnecting reports whether the connection is closing or closed:
	// LoseConnection or AbortConnection was called, or the connection ended.
	// It is false before the connection opened. Any goroutine.
	Disconnecting() bool

	// RegisterProducer makes p the producer of this connection's output
	// (Twisted's registerProducer). A streaming (push) producer gets
	// PauseProducing when the buffered output passes the high watermark and
	// ResumeProducing when it drains below the low one; a pull producer
	// (streaming false) gets ResumeProducing now and each time the buffer
	// empties. StopProducing is called when the connection goes. While a
	// producer is registered, LoseConnection waits for it to unregister and
	// writes stay allowed (a producer that is a transport which is closing or
	// closed does not hold the close up: relays and the transport as its own
	// producer). The producer's methods run on this connection's
	// loop. It returns ErrProducerRegistered if one is registered already,
	// ErrClosed after close. Any goroutine.
	RegisterProducer(p Producer, streaming bool) error

	// UnregisterProducer removes the registered producer, if any. Any goroutine.
	UnregisterProducer()

	// PauseProducing stops reading from the socket, so the peer is pushed
	// back by TCP, and delivering to the protocol (Twisted's transport as a
	// push producer). Nothing more is read while paused; the chunk being
	// delivered when the pause came is the protocol's (the receivers of
	// package protocol keep what they have not delivered, see ReadPaused).
	// Any goroutine.
	PauseProducing()

	// ReadPaused reports whether reading is paused: PauseProducing was
	// called and ResumeProducing not since. The receivers of package
	// protocol check it between lines and strings, so that a pause stops
	// delivery mid-chunk. Any goroutine.
	ReadPaused() bool

	// ResumeProducing restarts delivery after PauseProducing. A protocol
	// that implements protocol.ReadResumer is told, on the loop, before more
	// data is read. Any goroutine.
	ResumeProducing()

	// StopProducing closes the connection, as LoseConnection does; with
	// PauseProducing and ResumeProducing it makes every Transport a
	// Producer, so one connection can be another's producer. Any goroutine.
	StopProducing()

	// SetWriteWatermarks sets this connection's high and low watermarks of
	// buffered output, in bytes (see RegisterProducer); 0 keeps the current
	// value. Any goroutine.
	SetWriteWatermarks(high, low int)

	// StartTLS switches the connection to TLS with cfg, as the server when
	// serverSide is true, else as the client (Twisted's
	// ITLSTransport.startTLS; STARTTLS-style protocols call it when the
	// peer agreed). Bytes written before it go out in clear first; from
	// then on Write and WriteSequence take plaintext, which is held until
	// the handshake completes and sent encrypted after it, and received
	// data reaches the protocol decrypted. LoseConnection sends TLS's
	// close_notify before the FIN. A protocol implementing
	// tlsproto.HandshakeListener is told when the handshake completed; a
	// handshake that fails or times out closes the connection with a
	// reason matching ErrConnectionAborted and tlsproto.ErrHandshakeFailed.
	// Bytes received in clear before the call that the protocol still
	// holds are its own: they are never decrypted. It returns
	// ErrTLSStarted when TLS is on already, ErrClosed once the connection
	// is closing or closed, and ErrNotSupported where the transport cannot
	// carry TLS. Package tlsproto describes the handshake and its limits.
	// Any goroutine; called on the connection's loop (from a callback, as
	// protocols do), it takes effect at once for both directions.
	StartTLS(cfg *tls.Config, serverSide bool) error

	// Loop returns the loop that runs this connection's callbacks: its
	// timers and callbacks scheduled on it run on that loop, serialized with
	// the protocol's own callbacks. Any goroutine.
	Loop() Loop
}

// Producer produces data for a consumer (a Transport) that may ask it to
// pause: Twisted's IPushProducer, and IPullProducer when registered as not
// streaming. Its methods are called on the consumer connection's loop.
type Producer interface {
	// PauseProducing asks a push producer to stop writing until
	// ResumeProducing. Consumer's loop goroutine.
	PauseProducing()
	// ResumeProducing asks for more data: a push producer resumes, a pull
	// producer writes its next piece. Consumer's loop goroutine.
	ResumeProducing()
	// StopProducing tells the producer the consumer is gone: it must stop
	// for good. Consumer's loop goroutine.
	StopProducing()
}

// ProducerWrapper is implemented by a producer that stands in for another
// (a policy's proxy, say): WrappedProducer returns the producer it passes its
// calls to. [HoldsClose] looks through it. Any goroutine may call it.
type ProducerWrapper interface {
	Producer
	WrappedProducer() Producer
}

// HoldsClose reports whether a registered producer p holds up a
// LoseConnection (see RegisterProducer): every producer does, except one
// that is a Transport no longer connected (the other side of a relay that
// went, or a transport registered as its own producer), looking through
// ProducerWrapper proxies. Transports call it on their loop; it is safe from
// any goroutine.
func HoldsClose(p Producer) bool {
	for p != nil {
		if t, ok := p.(Transport); ok {
			return t.Connected()
		}
		w, ok := p.(ProducerWrapper)
		if !ok {
			return true
		}
		p = w.WrappedProducer()
	}
	return false
}

// Loop is what a protocol may ask of the event loop that runs it. The reactor
// package implements it on gnet's loops; transporttest implements it on a fake
// clock.
//
// Every method is safe to call from any goroutine; the functions passed in run
// on the loop.
type Loop interface {
	Clock

	// CallSoon runs fn on the loop, after the current callback returns (the
	// equivalent of Twisted's callFromThread for this loop). It returns
	// ErrLoopStopped if the loop stopped. Any goroutine.
	CallSoon(fn func()) error

	// DeferToGoroutine runs fn on a bounded pool of worker goroutines, where
	// it may block, then calls then(result, err) on the loop. A panic in fn is
	// passed to then as a *PanicError. If the loop has stopped (before fn
	// runs, or before then can run on it), then is still called, once, with
	// an error matching ErrLoopStopped, on another goroutine; then is never
	// dropped. Any goroutine.
	DeferToGoroutine(fn func() (any, error), then func(result any, err error))
}

// Clock tells the time and schedules calls: Twisted's IReactorTime. Every
// method is safe from any goroutine.
type Clock interface {
	// Now returns the clock's current time. Any goroutine.
	Now() time.Time

	// CallLater runs fn once, d from now, on the goroutine the clock belongs
	// to (for a loop's clock: that loop). A d of 0 or less runs it as soon as
	// possible, never inside the call. Any goroutine.
	CallLater(d time.Duration, fn func()) DelayedCall
}

// DelayedCall is a pending call made by [Clock.CallLater]: Twisted's
// IDelayedCall. Every method is safe from any goroutine.
type DelayedCall interface {
	// Cancel stops the call from running. It returns ErrAlreadyCalled or
	// ErrAlreadyCancelled when the call is no longer pending. Any goroutine.
	Cancel() error
	// Reset makes the call run d from now. Same errors as Cancel. Any goroutine.
	Reset(d time.Duration) error
	// Delay makes the call run d later than it was due. Same errors as
	// Cancel. Any goroutine.
	Delay(d time.Duration) error
	// Active reports whether the call is still pending. Any goroutine.
	Active() bool
	// Time returns when the call is due. Any goroutine.
	Time() time.Time
}
