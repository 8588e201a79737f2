// Package portforward is Twisted's port forwarder (twisted.protocols.portforward)
// on whirl: every connection the server accepts gets an outbound connection of
// its own to a fixed destination, made on the same reactor, and the bytes are
// relayed both ways until either side closes.
//
// The inbound connection is not read until the outbound one is up, so nothing
// is buffered for a destination that may never answer; if the outbound
// connection fails (refused, timed out, name not found), the inbound one is
// closed and the reason logged. Once both are up they are joined with
// [protocol.Splice]: each is the streaming producer of the other's output, so
// a fast sender facing a slow receiver is held back by TCP and the forwarder
// holds about one write watermark (64 KiB) per direction, whatever the
// volumes. When either side closes, the other is closed once what it was sent
// has been flushed.
//
// # Goroutines
//
// An [Inbound]'s callbacks run on its connection's loop, as every protocol's
// do. Its outbound connection lives on the loop the reactor picks for the
// connector, often another one: the two sides meet only through
// protocol.Splice and the transports' own methods, which are safe from any
// goroutine. [Factory]'s methods may be called from any goroutine.
package portforward
