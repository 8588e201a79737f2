// Package protocol defines [Protocol], the per-connection object users write,
// and [Base], the struct they embed to get default callbacks, the transport,
// and a way for bases built on top of it to call the user's own methods.
//
//	type Echo struct{ protocol.Base }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport().Write(data) }
//
// # Goroutines
//
// All of a protocol's callbacks run on its connection's loop, one at a time:
// its own fields need no locks. State shared between connections (a chat
// room) is reached from several loops and needs a mutex, unless the reactor
// runs a single loop.
//
// # Panics
//
// A panic in a callback is recovered by the reactor, logged with its stack,
// and the connection is aborted; other connections are not disturbed.
package protocol
