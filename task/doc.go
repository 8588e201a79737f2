// Package task runs functions over time on a [transport.Clock]: Twisted's
// twisted.internet.task. [LoopingCall] calls a function at a fixed rate, as
// Twisted's LoopingCall does.
//
// # Clocks
//
// A LoopingCall runs on any [transport.Clock]:
//
//   - a connection's loop, t.Loop() (a [transport.Loop] is a Clock): the
//     calls run on that loop, serialized with the protocol's callbacks, so
//     they may touch the protocol's fields without a lock. Stop the
//     LoopingCall in ConnectionLost: the loop outlives the connection.
//   - the reactor ([github.com/whirl-go/whirl/reactor.Reactor] is a Clock):
//     the calls run on its first loop.
//   - a [github.com/whirl-go/whirl/transport/transporttest.Clock] in tests:
//     the calls run when the test advances the clock, on the goroutine that
//     advances it.
//
// # Panics
//
// A panic in the function stops the LoopingCall and goes on up the stack,
// unrecovered by this package, to whoever ran the call: on a connection's
// loop the reactor recovers it, logs it and aborts the connection; on the
// reactor's own clock it is logged; a transporttest Clock lets it out of
// Advance; and with Start(interval, true) the first call's panic comes out of
// Start.
package task
