// Package reactor runs protocols on event loops: Twisted's reactor, built on
// gnet v2's pollers (pkg/netpoll: epoll on Linux, kqueue on macOS and
// FreeBSD), which whirl drives itself; gnet's engine is not used.
//
// A [Reactor] is made with [New] and a few options, gets ports and
// connectors, and runs until its context ends:
//
//	r := reactor.New()                                  // one loop per CPU
//	port, err := r.Listen("tcp:8000", f)                // or ListenTCP(":8000", f)
//	...
//	err = r.Run(ctx)                                    // blocks; a graceful stop when ctx ends
//
// # Ports and connectors
//
//   - [Reactor.ListenTCP] and [Reactor.ListenUnix] serve a factory.Factory on
//     a TCP or UNIX socket, [Reactor.Listen] on a server endpoint string
//     ("tcp:8000:interface=127.0.0.1", "unix:/run/app.sock:mode=660",
//     "systemd:domain=INET:index=0"; see package endpoint). Each returns a
//     [*Port]; [Port.StopListening] stops accepting and leaves open
//     connections alone.
//   - [Reactor.ConnectTCP], [Reactor.ConnectUnix] and [Reactor.Connect] (a
//     client endpoint string) make outbound connections for a
//     factory.ClientFactory and return a [*Connector]: Twisted's connectTCP
//     and IConnector. factory.Reconnecting retries with Twisted's backoff.
//   - [Reactor.ListenUDP] binds a UDP socket for a protocol.DatagramProtocol
//     and returns a [*UDPPort], its transport.
//
// Ports and connectors may be made before Run (a port is bound at once and
// accepts when Run starts) or while the reactor runs.
//
// # Goroutines
//
// The reactor has N loops (WithLoops; default GOMAXPROCS), each one
// goroutine. A connection lives on one loop, and everything about it runs
// there, one call at a time: BuildProtocol, ConnectionMade, DataReceived,
// ConnectionLost, the timers made through its transport.Loop, the then of its
// Loop().DeferToGoroutine, its producer's calls. A protocol's own fields
// need no locks. State shared between connections is reached from several
// loops and needs a lock, unless the reactor runs one loop (WithLoops(1):
// Twisted's single-threaded model). Every method of the transport.Transport
// a protocol gets is safe from any goroutine. Each exported function and
// method of this package says which goroutine may call it (almost all: any)
// and where its callbacks run. [Reactor.CallLater], [Reactor.CallFromGoroutine]
// and the then of [Reactor.DeferToGoroutine] run on loop 0.
//
// # Blocking work
//
// Nothing may block a loop: every connection of that loop would wait.
// [Reactor.DeferToGoroutine] and transport.Loop.DeferToGoroutine run a
// function on a bounded pool of worker goroutines and call then back on the
// loop. The pool has [WithWorkers] goroutines, 4 × GOMAXPROCS and at least
// 16 by default, shared by the whole reactor. When every worker is busy, a
// new call waits in an unbounded queue until one is free: the pool is for
// short calls (a file, a quick query), not for code that waits on a peer.
// The package example of DeferToGoroutine shows a call waiting for a worker.
//
// # Flow control and closing
//
// Output is buffered per connection, with watermarks (WithWriteWatermarks,
// 64 KiB / 16 KiB) that pause and resume a registered producer, and a hard
// cap (WithMaxWriteBuffer, 16 MiB) past which the connection is aborted.
// Pausing a transport stops reading its socket, so TCP pushes back on the
// peer. LoseConnection flushes, sends the FIN, then lingers until the peer's
// FIN (WithLingerTimeout). Optional read-idle and write-stall timeouts end
// connections that send nothing or read nothing. docs/flow-control.md has
// the details and the measurements.
//
// # Stopping, faults and logging
//
// [Reactor.Stop], or the end of Run's context, runs the OnShutdown hooks,
// stops every port, closes every connection gracefully within a deadline
// (WithStopTimeout, 10 s), then stops the loops. A panic in a callback is
// recovered and logged, and aborts only its connection. Running out of file
// descriptors makes accepting back off; it never stops the reactor. The
// reactor logs nothing unless given a zerolog.Logger with [WithLogger].
// [Reactor.Stats] reads its counters (connections, bytes, close reasons,
// paused and buffered connections, loop queue delay) without stopping a loop.
//
// # Platforms
//
// The package builds on Linux, macOS and FreeBSD. Linux alone has batched
// UDP (recvmmsg, sendmmsg), abstract UNIX socket names ("@name"), dropping a
// paused connection's read interest from the poller, and the "every byte
// acknowledged" check that ends a lingering close early.
package reactor
