// Package echo is Twisted's echo server ported to whirl: a protocol that
// writes back every byte it receives, and the factory that makes one per
// connection.
//
// # Goroutines
//
// Echo's callbacks run on its connection's loop, as every protocol's do; it
// keeps no state of its own. Factory may be called from any goroutine.
package echo
