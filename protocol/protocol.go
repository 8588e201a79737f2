package protocol

import "github.com/whirl-go/whirl/transport"

// Protocol is the per-connection handler: Twisted's IProtocol. The reactor
// calls its methods on the connection's loop, one at a time.
type Protocol interface {
	// ConnectionMade is called once, when the connection is ready. The
	// transport is available through Base.Transport. Loop goroutine.
	ConnectionMade()

	// DataReceived is called with bytes as they arrive, in chunks of any size.
	// data is valid only until DataReceived returns: the loop reuses the
	// buffer, so copy what must be kept. Not called once LoseConnection was
	// called. Loop goroutine.
	DataReceived(data []byte)

	// ConnectionLost is called exactly once for a connection that saw
	// ConnectionMade, when it is closed. reason is never nil: it matches
	// transport.ErrConnectionDone (clean close, either side),
	// transport.ErrConnectionLost (wrapping the cause) or
	// transport.ErrConnectionAborted with errors.Is. Loop goroutine.
	ConnectionLost(reason error)
}

// Base is embedded by protocols. It gives no-op ConnectionMade, DataReceived
// and ConnectionLost, the connection's transport, and the outer value (the
// user's struct) for bases that need to call the user's overrides.
//
// Base's fields are set by [MakeConnection]; users never set them.
type Base struct {
	transport transport.Transport
	self      Protocol
}

// base lets MakeConnection find the embedded Base in any struct that embeds it.
func (b *Base) base() *Base { return b }

type embedsBase interface{ base() *Base }

// Transport returns the connection's transport, or nil before MakeConnection.
// Loop goroutine (or any goroutine after ConnectionMade).
func (b *Base) Transport() transport.Transport { return b.transport }

// Self returns the outer protocol value given to MakeConnection: the user's
// struct that embeds this Base (directly or through another base). Bases such
// as a line receiver use it to reach the user's methods. Loop goroutine.
func (b *Base) Self() Protocol { return b.self }

// ConnectionMade does nothing. Loop goroutine.
func (b *Base) ConnectionMade() {}

// DataReceived discards the data. Loop goroutine.
func (b *Base) DataReceived(data []byte) {}

// ConnectionLost does nothing. Loop goroutine.
func (b *Base) ConnectionLost(reason error) {}

// Wire stores t and p in the Base embedded in p, without calling
// ConnectionMade; it reports whether p embeds a Base. Bases that must prepare
// themselves before ConnectionMade, and tests, use it; everything else uses
// MakeConnection. Wire also binds an embedded receiver to p's callbacks
// (LineReceived, StringReceived, ...) but, unlike MakeConnection, does not
// refuse a protocol that lacks one: such a receiver panics on its first
// data. Loop goroutine.
func Wire(p Protocol, t transport.Transport) bool {
	ok, _ := wire(p, t)
	return ok
}

// wire is Wire, returning also the error of a receiver embedded in p that
// found a callback missing on p.
func wire(p Protocol, t transport.Transport) (bool, error) {
	eb, ok := p.(embedsBase)
	if !ok {
		return false, nil
	}
	b := eb.base()
	if b == nil { // embeds a nil *Base
		return false, nil
	}
	b.transport = t
	b.self = p
	if tb, ok := p.(timeoutBinder); ok {
		tb.bindTimeout(p)
	}
	if hb, ok := p.(handlerBinder); ok {
		return true, hb.bindHandlers(p)
	}
	return true, nil
}

// timeoutBinder is implemented by structs that embed Timeout: Wire binds it
// to the outer protocol, so users need not call Timeout.Bind.
type timeoutBinder interface{ bindTimeout(p Protocol) }

// handlerBinder is implemented by the receivers (and, through embedding, by
// the user's struct around one): bindHandlers finds the callbacks the
// receiver calls on p, the outer protocol, once, and returns an error naming
// p's type and the method when a required one is missing.
type handlerBinder interface{ bindHandlers(p Protocol) error }

// MakeConnection connects p to t, as Twisted's makeConnection does: it stores
// t and p itself in the Base that p embeds, then calls p.ConnectionMade. A
// protocol that does not embed Base only gets ConnectionMade. The reactor
// calls it for every new connection; tests call it with a transporttest
// transport.
//
// A receiver embedded in p ([LineReceiver], [Int32StringReceiver], ...) is
// bound to p's callbacks here, before ConnectionMade, whatever p's own
// ConnectionMade does. If p lacks the callback the receiver needs
// ([LineHandler], [StringHandler]), the connection is refused before any
// data is read: MakeConnection closes t with t.CloseWithError(err), err
// matching [ErrNoLineReceived] or [ErrNoStringReceived] and naming p's type
// and the method, so the reactor logs it with the peer's address and
// ConnectionLost's reason matches both transport.ErrConnectionAborted and
// err. ConnectionMade is still called (on a transport that is disconnecting),
// so that ConnectionMade and ConnectionLost stay paired. Loop goroutine.
func MakeConnection(p Protocol, t transport.Transport) {
	if _, err := wire(p, t); err != nil {
		t.CloseWithError(err)
	}
	p.ConnectionMade()
}

// ReadResumer is implemented by protocols that want to know when their
// transport's ResumeProducing lifted a pause: the reactor calls
// ReadingResumed on the connection's loop before it reads more. The
// receivers of this package implement it to deliver the lines or strings a
// pause held back (transport.Transport.ReadPaused).
type ReadResumer interface {
	// ReadingResumed is called after the transport's ResumeProducing
	// lifted a pause, before more data is read. Loop goroutine.
	ReadingResumed()
}

// HalfCloseable is implemented by protocols that handle a half-closed
// connection: Twisted's IHalfCloseableProtocol. Without it, the peer's FIN
// ends the connection (once written output has drained). With it, the
// peer's FIN calls ReadConnectionLost and the connection stays open for
// writing; Transport.LoseWriteConnection sends this side's FIN and calls
// WriteConnectionLost once it went out. The connection closes
// (ConnectionLost with a reason matching transport.ErrConnectionDone) when
// both directions are closed. The reactor checks for it when the event
// happens.
type HalfCloseable interface {
	// ReadConnectionLost is called when the peer closed its side: no more
	// data will arrive. Loop goroutine.
	ReadConnectionLost()
	// WriteConnectionLost is called when this side's FIN was sent after
	// LoseWriteConnection. Loop goroutine.
	WriteConnectionLost()
}

// WriteBufferNotifier is implemented by protocols that want to know when their
// connection's buffered output passes the high watermark (WriteBufferFull) and
// when it drains below the low one again (WriteBufferDrained): Tornado's
// write-buffer callbacks. The reactor checks for it once, when the connection
// is made. Both run on the connection's loop.
type WriteBufferNotifier interface {
	// WriteBufferFull is called when buffered output passes the high
	// watermark. Loop goroutine.
	WriteBufferFull()
	// WriteBufferDrained is called when buffered output, having been full,
	// drains below the low watermark. Loop goroutine.
	WriteBufferDrained()
}
