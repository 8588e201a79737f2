// Package transport defines what a protocol talks to: the [Transport] of one
// connection (Twisted's ITransport), the [DatagramTransport] of a UDP socket,
// the [Loop] that runs the callbacks, the [Clock] and [DelayedCall] of that
// loop's timers, and the [Producer] interface of flow control, which every
// Transport implements.
//
// The package imports nothing but the standard library. The reactor package
// implements these interfaces on its event loops (gnet's pollers); package
// transporttest implements them in memory, with a fake clock, for tests
// without sockets.
//
// # Reasons
//
// A protocol's ConnectionLost gets a reason that matches exactly one of
// [ErrConnectionDone] (a clean close, by either side), [ErrConnectionLost]
// (reset or I/O error, wrapping the cause) and [ErrConnectionAborted] (this
// side gave up: AbortConnection, CloseWithError, a panic, a cap or a
// deadline), tested with [errors.Is]. The reason may match a more precise
// error of this package too ([ErrIdleTimeout], [ErrWriteBufferOverflow],
// [ErrLingerTimeout], [*PanicError], ...); each one's documentation says
// which of the three it comes with. A client factory's
// ClientConnectionFailed gets a reason matching [ErrConnectFailed].
//
// # Goroutines
//
// Every method of [Transport] is safe to call from any goroutine. A protocol's
// callbacks run on its connection's loop, one at a time, so a protocol's own
// fields need no locks.
package transport
