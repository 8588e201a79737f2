// Package transport defines what a protocol talks to: the [Transport] of one
// connection, the [Loop] that runs the connection's callbacks, and the [Clock]
// and [DelayedCall] of that loop's timers.
//
// The package imports nothing but the standard library. The reactor package
// implements these interfaces on gnet's event loops; package transporttest
// implements them in memory, with a fake clock, for tests without sockets.
//
// # Goroutines
//
// Every method of [Transport] is safe to call from any goroutine. A protocol's
// callbacks run on its connection's loop, one at a time, so a protocol's own
// fields need no locks.
package transport
