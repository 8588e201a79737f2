package stream

import "errors"

// Errors of package stream, matched with [errors.Is].
//
// A read that can never complete closes the stream, as Tornado's IOStream
// does: the pending callback gets an error matching [ErrStreamClosed] and
// the cause ([ErrUnsatisfiableRead] or [ErrStreamBufferFull], with the
// sizes), the transport is closed with CloseWithError(cause) (so the reactor
// logs it once with the peer's address, and ConnectionLost's reason matches
// transport.ErrConnectionAborted and the cause), and [Stream.CloseReason]
// returns the cause.
//
// When the connection ends, a pending callback gets an error matching
// [ErrStreamClosed] and the connection's reason: transport.ErrConnectionDone
// for a clean close, transport.ErrConnectionLost (wrapping the system error)
// for a reset, transport.ErrConnectionAborted for an abort.
//
// Programming errors (a second read while one is pending, an empty
// delimiter, a negative count, a TCPServer used before Init) are panic
// values matching [ErrAlreadyReading], [ErrBadRead] or [ErrNotInitialized]:
// the reactor recovers them, logs them with the stack and aborts that
// connection.
var (
	// ErrStreamClosed is matched by the error a callback gets when the
	// stream closed before its read or write could complete, and by the
	// error of a Write on a closed stream: Tornado's StreamClosedError. The
	// error also matches the real cause when there is one.
	ErrStreamClosed = errors.New("stream: stream is closed")
	// ErrStreamBufferFull is matched by the error of a read that needs more
	// than MaxBufferSize bytes buffered (the stream closes), and by the
	// error of a Write that would take the stream's unsent output past
	// MaxWriteBufferSize (the stream stays open; the write is dropped):
	// Tornado's StreamBufferFullError.
	ErrStreamBufferFull = errors.New("stream: buffer full")
	// ErrUnsatisfiableRead is matched by the error of a ReadUntil or
	// ReadUntilRegex whose delimiter (or match) was not found within its
	// maxBytes: Tornado's UnsatisfiableReadError. The stream closes.
	ErrUnsatisfiableRead = errors.New("stream: unsatisfiable read")
	// ErrAlreadyReading is the panic value of a read started while another
	// is pending: a stream has one outstanding read at a time.
	ErrAlreadyReading = errors.New("stream: a read is already pending")
	// ErrBadRead is the panic value of a read with bad arguments: an empty
	// delimiter, a nil regular expression or callback, a negative count,
	// an empty ReadInto buffer.
	ErrBadRead = errors.New("stream: bad read arguments")
	// ErrNotInitialized is the panic value of a TCPServer that serves a
	// connection before Init bound it to the user's type, and is returned
	// by Listen on a server without a reactor.
	ErrNotInitialized = errors.New("stream: TCPServer not initialized (call Init)")
)
