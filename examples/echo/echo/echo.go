package echo

import (
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// Echo writes back whatever it receives, as it arrives: Twisted's Echo
// protocol. It embeds [protocol.Base] for the transport and the callbacks it
// does not need.
type Echo struct{ protocol.Base }

// ConnectionMade registers the transport as the producer of its own output,
// the Twisted idiom for an echo that stays bounded: when a peer sends faster
// than it reads, the buffered echo passes the high watermark, the transport
// pauses reading, and TCP pushes back on the peer. Without it a peer that
// never reads would be cut off at the write-buffer cap. Loop goroutine.
func (e *Echo) ConnectionMade() {
	_ = e.Transport().RegisterProducer(e.Transport(), true)
}

// DataReceived writes data back to the peer. Write copies the bytes into the
// connection's output buffer, so data is not kept past the call. A write
// error means the connection is closing, and there is nothing left to do.
// Loop goroutine.
func (e *Echo) DataReceived(data []byte) {
	_, _ = e.Transport().Write(data)
}

// Factory returns a factory that makes a new [Echo] for every connection:
// Twisted's Factory.forProtocol(Echo). Any goroutine.
func Factory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &Echo{} })
}
