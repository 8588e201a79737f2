package protocol

import (
	"net"
	"sync/atomic"

	"github.com/whirl-go/whirl/transport"
)

// DatagramProtocol handles the datagrams of a UDP port: Twisted's
// DatagramProtocol. Embed [DatagramBase] for the defaults and the transport.
//
// The reactor calls its methods on one loop, one at a time, even when the
// protocol serves several ports: its own fields need no locks.
type DatagramProtocol interface {
	// StartProtocol is called when the protocol's first port is ready
	// (Twisted's startProtocol, ref-counted as its doStart): the transport
	// is available, so it may Connect, join groups or write. Loop
	// goroutine.
	StartProtocol()

	// StopProtocol is called once the protocol's last port stopped
	// listening (Twisted's stopProtocol). Loop goroutine.
	StopProtocol()

	// DatagramReceived is called with each datagram and its sender, a
	// *net.UDPAddr. data is valid only until DatagramReceived returns: the
	// loop reuses the buffer, so copy what must be kept. addr may be kept
	// (the port hands the same value to every datagram of a peer), and
	// must not be modified. A datagram larger than the port's buffer is
	// never delivered cut short (see [DatagramTooLargeNotifier]). Loop
	// goroutine.
	DatagramReceived(data []byte, addr net.Addr)

	// ConnectionRefused is called when the peer of a connected socket (see
	// transport.DatagramTransport.Connect) refused a datagram: its system
	// answered with an ICMP port unreachable. Loop goroutine.
	ConnectionRefused()
}

// DatagramTooLargeNotifier is implemented by datagram protocols that want to
// know of a datagram larger than the port's receive buffer. Such a datagram
// is not delivered (the system keeps only what fits); the port logs it at
// warn level and calls DatagramTooLarge. The reactor checks for the
// interface when the port is made.
type DatagramTooLargeNotifier interface {
	// DatagramTooLarge reports a datagram of size bytes from addr that did
	// not fit the buffer; size is -1 where the system does not tell the
	// full size (only Linux does). Loop goroutine.
	DatagramTooLarge(size int, addr net.Addr)
}

// DatagramBase is embedded by datagram protocols. It gives no-op callbacks
// and the port's transport, set by [MakeDatagram] or [WireDatagram]; users
// never set it. It must not be copied once in use.
type DatagramBase struct {
	t atomic.Pointer[transport.DatagramTransport]
}

func (b *DatagramBase) datagramBase() *DatagramBase { return b }

type embedsDatagramBase interface{ datagramBase() *DatagramBase }

// Transport returns the port's transport (for a protocol on several ports,
// the port bound last), or nil before the protocol was bound. Any goroutine.
func (b *DatagramBase) Transport() transport.DatagramTransport {
	if t := b.t.Load(); t != nil {
		return *t
	}
	return nil
}

// StartProtocol does nothing. Loop goroutine.
func (b *DatagramBase) StartProtocol() {}

// StopProtocol does nothing. Loop goroutine.
func (b *DatagramBase) StopProtocol() {}

// DatagramReceived discards the datagram. Loop goroutine.
func (b *DatagramBase) DatagramReceived(data []byte, addr net.Addr) {}

// ConnectionRefused does nothing. Loop goroutine.
func (b *DatagramBase) ConnectionRefused() {}

// WireDatagram stores t in the DatagramBase embedded in p, without calling
// StartProtocol; it reports whether p embeds one. The reactor calls it for
// each port of a protocol. Loop goroutine (the protocol's).
func WireDatagram(p DatagramProtocol, t transport.DatagramTransport) bool {
	eb, ok := p.(embedsDatagramBase)
	if !ok {
		return false
	}
	b := eb.datagramBase()
	if b == nil { // embeds a nil *DatagramBase
		return false
	}
	b.t.Store(&t)
	return true
}

// MakeDatagram binds p to t as Twisted's makeConnection does for a datagram
// protocol: it stores t in the DatagramBase that p embeds, then calls
// p.StartProtocol. The reactor calls it for a protocol's first port; tests
// call it with a transport of their own. Loop goroutine.
func MakeDatagram(p DatagramProtocol, t transport.DatagramTransport) {
	WireDatagram(p, t)
	p.StartProtocol()
}
