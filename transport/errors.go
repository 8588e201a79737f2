package transport

import (
	"errors"
	"fmt"
)

// Errors reported by transports. ConnectionLost always receives a reason that
// matches one of the first three with [errors.Is].
var (
	// ErrConnectionDone means the connection was closed cleanly, by either
	// side: the peer sent EOF, LoseConnection finished, or the reactor's
	// read-idle timeout closed it (the reason then also matches
	// ErrIdleTimeout).
	ErrConnectionDone = errors.New("transport: connection closed cleanly")
	// ErrConnectionLost means the connection ended uncleanly (reset, I/O
	// error). The reason wraps the cause as well.
	ErrConnectionLost = errors.New("transport: connection lost")
	// ErrConnectionAborted means the connection was aborted on this side:
	// AbortConnection, CloseWithError, a panic in a callback, the
	// write-buffer cap, a write stall, a drain or stop deadline.
	ErrConnectionAborted = errors.New("transport: connection aborted")
	// ErrClosed is returned by writes on a transport that is closed.
	ErrClosed = errors.New("transport: use of closed connection")
	// ErrNotSupported is returned by socket options the transport cannot apply.
	ErrNotSupported = errors.New("transport: operation not supported")
	// ErrLoopStopped is returned when work is submitted to a loop that has stopped.
	ErrLoopStopped = errors.New("transport: loop stopped")
	// ErrProducerRegistered is returned by RegisterProducer when a producer
	// is registered already.
	ErrProducerRegistered = errors.New("transport: a producer is registered already")
	// ErrWriteBufferOverflow is wrapped in the reason of a connection
	// aborted because its buffered output passed the hard cap.
	ErrWriteBufferOverflow = errors.New("transport: write buffer overflow")
	// ErrReadBufferOverflow was wrapped in the reason of a connection that
	// buffered too much received data while paused.
	//
	// Deprecated: no longer reported: a paused connection is not read, so
	// nothing is buffered for it (reactor.WithMaxPausedReadBuffer is ignored).
	ErrReadBufferOverflow = errors.New("transport: read buffer overflow while paused")
	// ErrIdleTimeout is wrapped in the reason of a connection closed because
	// nothing was received for the read-idle timeout. The close is clean
	// (buffered output is flushed first): the reason matches
	// ErrConnectionDone, not ErrConnectionAborted.
	ErrIdleTimeout = errors.New("transport: read idle timeout")
	// ErrWriteStalled is wrapped in the reason of a connection aborted
	// because its buffered output made no progress for the write-stall
	// timeout (or, while closing, the drain timeout).
	ErrWriteStalled = errors.New("transport: write stalled")
	// ErrLingerTimeout is wrapped in the reason of a connection whose
	// lingering close (after LoseConnection's FIN, waiting for the peer's)
	// timed out while the peer had not acknowledged every byte: some output
	// may not have reached it. The reason matches ErrConnectionLost.
	ErrLingerTimeout = errors.New("transport: linger timeout")
	// ErrConnectFailed is matched by every reason a client factory's
	// ClientConnectionFailed receives: Twisted's ConnectError. The reason
	// also matches the more precise error below when one applies, and wraps
	// the system error when there is one.
	ErrConnectFailed = errors.New("transport: connect failed")
	// ErrConnectionRefused means the destination refused the connection
	// (ECONNREFUSED). Matches ErrConnectFailed.
	ErrConnectionRefused = errors.New("transport: connection refused")
	// ErrTimeout means the connect attempt took longer than its timeout.
	// Matches ErrConnectFailed.
	ErrTimeout = errors.New("transport: connect timed out")
	// ErrDNSLookup means the destination's host name could not be
	// resolved. Matches ErrConnectFailed.
	ErrDNSLookup = errors.New("transport: DNS lookup failed")
	// ErrNoRoute means the destination is unreachable (EHOSTUNREACH,
	// ENETUNREACH). Matches ErrConnectFailed.
	ErrNoRoute = errors.New("transport: no route to host")
	// ErrUserCancelled means the attempt was abandoned on this side
	// (Connector.StopConnecting, Disconnect, reactor stop) before it
	// connected. Matches ErrConnectFailed.
	ErrUserCancelled = errors.New("transport: connect cancelled")
	// ErrInvalidAddress is matched by the error of a datagram write or
	// connect to an address the socket cannot use: nil without a peer, not
	// a *net.UDPAddr, no IP address, the wrong address family, another
	// address than the peer of a connected socket.
	ErrInvalidAddress = errors.New("transport: invalid datagram address")
	// ErrMessageTooLong is matched by the error of a datagram larger than
	// the protocol (or the system) allows: Twisted's MessageLengthError.
	ErrMessageTooLong = errors.New("transport: message too long")
	// ErrSendQueueFull is returned by a datagram write that was dropped
	// because the socket's queue of unsent datagrams is full.
	ErrSendQueueFull = errors.New("transport: datagram send queue full")
	// ErrNotConnected is returned by Write on a datagram socket that is not
	// connected.
	ErrNotConnected = errors.New("transport: datagram socket not connected")
	// ErrAlreadyConnected is returned by a second Connect of a datagram
	// socket.
	ErrAlreadyConnected = errors.New("transport: datagram socket already connected")
	// ErrTLSStarted is returned by StartTLS on a connection that carries
	// TLS already.
	ErrTLSStarted = errors.New("transport: TLS already started")
	// ErrAlreadyCalled is returned by a DelayedCall method once the call ran.
	ErrAlreadyCalled = errors.New("transport: delayed call already called")
	// ErrAlreadyCancelled is returned by a DelayedCall method once it was cancelled.
	ErrAlreadyCancelled = errors.New("transport: delayed call already cancelled")
)

// PanicError is the cause recorded when a user callback panicked. The
// connection is aborted with a reason that wraps both [ErrConnectionAborted]
// and the PanicError; find it with [errors.As].
type PanicError struct {
	// Value is what the callback passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error implements error. Any goroutine may call it.
func (e *PanicError) Error() string { return fmt.Sprintf("transport: panic in callback: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so errors.Is sees through it.
// Any goroutine may call it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Lost builds the reason for an unclean end: it matches [ErrConnectionLost] and
// cause. Any goroutine may call it.
func Lost(cause error) error {
	if cause == nil {
		return ErrConnectionLost
	}
	return fmt.Errorf("%w: %w", ErrConnectionLost, cause)
}

// Aborted builds the reason for an abort on this side: it matches
// [ErrConnectionAborted] and cause (which may be nil). Any goroutine may call it.
func Aborted(cause error) error {
	if cause == nil {
		return ErrConnectionAborted
	}
	return fmt.Errorf("%w: %w", ErrConnectionAborted, cause)
}
