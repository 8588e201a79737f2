// Package relay pairs the connections a server accepts two by two and relays
// bytes between the two of each pair, as a TCP "meeting point": the first
// connection waits, the next one is joined to it, and everything one side
// sends reaches the other, in order. It is the example of [protocol.Relay]
// and [protocol.Splice], the helpers a port forwarder is built on (Twisted's
// portforward), with the same flow control: a fast sender facing a slow
// receiver is held back by TCP, and the server's memory stays flat.
//
// # Goroutines
//
// A [Conn]'s callbacks run on its connection's loop, as every protocol's do.
// The two connections of a pair may live on different loops; the waiting slot
// they meet in is the [Factory]'s, shared by every loop and guarded by a
// mutex. Factory's methods may be called from any goroutine.
package relay
