package protocol

import "github.com/whirl-go/whirl/transport"

// Relay is a protocol that forwards everything it receives to a peer
// connection: the building block of port forwarders and proxies (Twisted's
// portforward.Proxy). Two relays joined with [Splice] copy bytes both ways,
// each connection registered as the other's push producer, so a fast sender
// facing a slow receiver is paused by TCP instead of filling memory.
//
// A relay reads nothing until it is spliced: ConnectionMade pauses the
// transport, Splice resumes it. When either side closes, the other is closed
// cleanly after its output drained.
//
// examples/portforward is Twisted's port forwarder on relays: each accepted
// connection's relay opens an outbound connection (the reactor's
// ConnectEndpoint) from its ConnectionMade, and the outbound relay splices
// the two from its own. examples/relay splices accepted connections two by
// two.
type Relay struct {
	Base
	peer transport.Transport // loop goroutine only
}

// ConnectionMade pauses reading until the relay is spliced. Loop goroutine.
func (r *Relay) ConnectionMade() { r.Transport().PauseProducing() }

// DataReceived writes data to the peer. Loop goroutine.
func (r *Relay) DataReceived(data []byte) {
	if r.peer != nil {
		_, _ = r.peer.Write(data)
	}
}

// ConnectionLost closes the peer. Loop goroutine.
func (r *Relay) ConnectionLost(reason error) {
	if r.peer != nil {
		r.peer.LoseConnection()
		r.peer = nil
	}
}

// Splice joins two connected relays: what a receives is written to b and the
// other way round; each transport becomes the other's streaming producer; then
// both start reading. The relays may run on different loops. Any goroutine.
func Splice(a, b *Relay) {
	ta, tb := a.Transport(), b.Transport()
	_ = ta.RegisterProducer(tb, true)
	_ = tb.RegisterProducer(ta, true)
	link := func(r *Relay, self, peer transport.Transport) {
		if err := self.Loop().CallSoon(func() {
			r.peer = peer
			if !peer.Connected() || !self.Connected() {
				// One side went before the splice took: close both (the
				// one that went may have run ConnectionLost with no peer).
				self.LoseConnection()
				peer.LoseConnection()
				return
			}
			self.ResumeProducing()
		}); err != nil {
			peer.LoseConnection()
		}
	}
	link(a, ta, tb)
	link(b, tb, ta)
}
