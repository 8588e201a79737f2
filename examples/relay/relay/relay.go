package relay

import (
	"net"
	"sync"

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

// Conn is one side of a pair: a [protocol.Relay] that its [Factory] pairs
// with another connection. Conns are made by the Factory's BuildProtocol.
// The Relay gives the splice, each connection the producer of the other's
// output, and the close of the partner; the Conn writes what it receives to
// its partner itself, so that the bytes it read before the splice are handled
// in the same place.
//
// The flow control is the reactor's: each connection is the streaming
// producer of the other's output, so when one side's output passes its high
// watermark the other stops reading (at once, even when the two are on
// different loops and the consumer's loop is busy) and resumes when it
// drains.
type Conn struct {
	protocol.Relay

	factory *Factory
	partner *Conn // set once, by pair, with factory.mu held, before either join is scheduled

	// Loop goroutine only.
	joined bool   // the splice is in place on this loop: relay what arrives
	early  []byte // received before that
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
	if len(c.early) > 0 {
		_, _ = partner.Transport().Write(c.early)
	}
	c.early = nil
	c.Transport().ResumeProducing() // in case MaxEarly paused it
}

// DataReceived relays data to the partner once the pair is joined, and keeps
// it until then, pausing the connection once it holds [MaxEarly] bytes.
// Loop goroutine.
func (c *Conn) DataReceived(data []byte) {
	if c.joined {
		_, _ = c.partner.Transport().Write(data)
		return
	}
	c.early = append(c.early, data...)
	if len(c.early) >= MaxEarly {
		c.Transport().PauseProducing()
	}
}

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
