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

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// MaxEarly is how many bytes a waiting connection reads before its partner
// arrives. They are kept and relayed first once it does; past them the
// connection is paused, and TCP holds the sender back.
const MaxEarly = 64 << 10

// Factory pairs the connections it is given two by two. The first connection
// waits; the next one is spliced with it ([protocol.Splice]), and the two
// relay bytes both ways until either side closes, which closes the other
// once its output is flushed. A connection left without a partner waits until
// one arrives or it closes; a waiting connection that closes leaves the slot
// free.
//
// A waiting connection keeps reading, up to [MaxEarly] bytes, instead of
// being paused at once as a bare [protocol.Relay] is: a paused socket is not
// read, so its peer hanging up would go unnoticed, and the next client would
// be paired with a dead connection and closed with it. A waiting client that
// sends more than MaxEarly bytes and then hangs up is noticed only when its
// partner arrives, which is then closed too.
//
// The zero value is ready to use. One Factory may serve several ports and
// every loop of a reactor at once.
type Factory struct {
	factory.Base

	mu      sync.Mutex
	waiting *Conn // the connection without a partner, if any
	pairs   int64
}

// BuildProtocol returns a new [Conn] that will be paired by f. Any goroutine
// (the reactor calls it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol { return &Conn{factory: f} }

// Waiting reports whether a connection is waiting for a partner. Any goroutine.
func (f *Factory) Waiting() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting != nil
}

// Pairs returns the number of pairs f has made. Any goroutine.
func (f *Factory) Pairs() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pairs
}

// pair takes the waiting connection as c's partner and returns it, or makes
// c the waiting one and returns nil. A waiting connection that is already
// closing is passed over: c takes its place. Any goroutine.
func (f *Factory) pair(c *Conn) *Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.waiting
	if w == nil || w.Transport().Disconnecting() {
		f.waiting = c
		return nil
	}
	f.waiting = nil
	w.partner, c.partner = c, w
	f.pairs++
	return w
}

// leave frees the waiting slot if c holds it, and returns c's partner, if it
// has one. Any goroutine.
func (f *Factory) leave(c *Conn) *Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiting == c {
		f.waiting = nil
	}
	return c.partner
}

// window is how far a Conn may write ahead of its partner's loop: past it,
// it stops reading until that loop has flushed what it was given. On two
// loops, larger windows relayed no faster in our measurements, and 64 KiB
// keeps what waits for the partner's flush within the buffer the reactor
// reuses from one flush to the next.
const window = 64 << 10

// Conn is one side of a pair: a [protocol.Relay] that its [Factory] pairs
// with another connection. Conns are made by the Factory's BuildProtocol.
// The Relay gives the splice, each connection the producer of the other's
// output, and the close of the partner; the Conn writes what it receives to
// its partner itself, so that the bytes it read before the splice and its
// window (below) are handled in one place.
//
// Besides the Relay's flow control, where each connection is the producer of
// the other's output, a Conn bounds how far it writes ahead of its partner's
// loop. The reactor compares a connection's buffered output with its
// watermarks when that connection's own loop flushes it, so a partner on
// another loop could otherwise keep writing, up to the write-buffer cap,
// while that loop is busy or descheduled. A Conn that has written 64 KiB
// its partner's loop has not yet confirmed stops reading until it does.
type Conn struct {
	protocol.Relay

	factory *Factory
	partner *Conn // set once, by pair, with factory.mu held, before either join is scheduled

	// Loop goroutine only.
	joined bool   // the splice is in place on this loop: relay what arrives
	early  []byte // received before that
	full   bool   // this connection's output passed its high watermark

	// Shared with the partner's loop.
	ahead      atomic.Int64 // bytes written to the partner, not yet confirmed
	confirming atomic.Bool  // a confirmation is on its way
}

// ConnectionMade pairs the connection with the waiting one, or makes it the
// waiting one. A pair is spliced at once; each side then relays what it read
// before, and from then on everything it receives. Loop goroutine.
func (c *Conn) ConnectionMade() {
	w := c.factory.pair(c)
	if w == nil {
		return
	}
	protocol.Splice(&w.Relay, &c.Relay)
	_ = w.Transport().Loop().CallSoon(func() { w.join(c) })
	_ = c.Transport().Loop().CallSoon(func() { c.join(w) })
}

// join relays what c received before the pair was joined; from then on c
// relays what arrives. Loop goroutine.
func (c *Conn) join(partner *Conn) {
	c.joined = true
	if n := len(c.early); n > 0 {
		_, _ = partner.Transport().Write(c.early)
		// If c paused at MaxEarly (at least half a window), this sends the
		// confirmation that resumes it.
		c.wrote(int64(n))
	}
	c.early = nil
}

// DataReceived relays data to the partner once the pair is joined, and keeps
// it until then, pausing the connection once it holds [MaxEarly] bytes.
// Loop goroutine.
func (c *Conn) DataReceived(data []byte) {
	if c.joined {
		_, _ = c.partner.Transport().Write(data)
		c.wrote(int64(len(data)))
		return
	}
	c.early = append(c.early, data...)
	if len(c.early) >= MaxEarly {
		// Again on each call: Splice may resume c before join runs.
		c.Transport().PauseProducing()
	}
}

// wrote accounts for n bytes written to the partner: halfway through the
// window it asks the partner's loop to confirm them, at the end of the window
// it pauses until then. Loop goroutine.
func (c *Conn) wrote(n int64) {
	ahead := c.ahead.Add(n)
	if ahead >= window {
		c.Transport().PauseProducing()
	}
	// The pause comes first. If a confirmation is on its way, it has not
	// cleared confirming yet (or the swap would succeed), so the resume it
	// brings comes after this pause; otherwise one is sent now.
	if ahead >= window/2 && c.confirming.CompareAndSwap(false, true) {
		p, k := c.partner, c.ahead.Load()
		if err := p.Transport().Loop().CallSoon(func() { p.confirm(c, k) }); err != nil {
			return // the partner's loop stopped: the pair is going
		}
	}
}

// confirm runs on c's loop after c's transport was given (and has flushed)
// the n bytes from its partner that the confirmation counts. Unless c's
// output is full, in which case the reactor paused the partner and resumes
// it once the output drains, it lets the partner read again. Loop goroutine
// (c's).
func (c *Conn) confirm(from *Conn, n int64) {
	from.ahead.Add(-n)
	from.confirming.Store(false)
	if !c.full {
		from.Transport().ResumeProducing()
	}
}

// WriteBufferFull records that c's output passed its high watermark: the
// reactor has paused the partner, c's producer. Loop goroutine.
func (c *Conn) WriteBufferFull() { c.full = true }

// WriteBufferDrained records that c's output drained below its low
// watermark: the reactor has resumed the partner. Loop goroutine.
func (c *Conn) WriteBufferDrained() { c.full = false }

// ConnectionLost frees the waiting slot if c held it, and closes c's partner
// cleanly once its output is flushed. The Relay closes the partner too once
// the splice is in place on c's loop; c closes it here as well, so that a
// connection lost between its pairing and the splice taking effect does not
// leave its partner open. Loop goroutine.
func (c *Conn) ConnectionLost(reason error) {
	c.Relay.ConnectionLost(reason)
	c.early = nil
	if p := c.factory.leave(c); p != nil {
		p.Transport().LoseConnection()
	}
}
