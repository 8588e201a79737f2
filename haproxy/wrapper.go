package haproxy

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// The states of a ProtocolWrapper. Loop goroutine only.
const (
	stateHeader    uint8 = iota // reading the header
	stateConnected              // header accepted, the wrapped protocol connected
	stateDone                   // refused, or lost
)

// ProtocolWrapper stands between a connection's real transport and the
// protocol the wrapped factory builds once the connection's PROXY protocol
// header is accepted: Twisted's HAProxyProtocolWrapper. To the real
// transport it is the protocol; to the wrapped protocol it is the transport
// (the protocol's Base.Transport returns the wrapper).
//
// What it promises, where Twisted's wrapper fails:
//
//   - The wrapped factory's BuildProtocol and the protocol's ConnectionMade
//     run only once the whole header is parsed, so from the protocol's
//     first callback on, RemoteAddr and LocalAddr are the client's and the
//     address the client connected to, as the header gives them. A v2
//     LOCAL header (the proxy's own health check) and a v1 "PROXY UNKNOWN"
//     leave the real addresses.
//   - The header may arrive in any number of segments, split anywhere.
//     Bytes that follow it, in the same segment or later ones, reach the
//     protocol's DataReceived after its ConnectionMade, in order (held back
//     while the protocol paused reading in ConnectionMade, delivered when it
//     resumes).
//   - A connection that does not start with a valid header is closed with
//     Transport.CloseWithError and an error matching [ErrMalformedHeader],
//     [ErrHeaderTooLarge], [ErrHeaderTimeout] or [ErrHeaderTruncated] (the
//     reactor logs it at warn level with the proxy's address), as soon as
//     the bytes show it. Nothing is written to it, no factory is asked for
//     a protocol, and no protocol callback runs.
//   - v2 TLVs (ALPN, authority, SSL, unique ID, any other) are there for
//     the protocol: [ProtocolWrapper.TLVs], [ProtocolWrapper.ALPN] and the
//     other accessors, reached from the protocol's transport with
//     [FromTransport].
//
// Everything else passes through to the real transport
// ([protocol.Forwarding]): writes, closes (CloseWithError adds the client's
// address to the reason, so the warn line the reactor logs names the client,
// not only the proxy), socket options (towards the proxy), read pauses,
// producers, and StartTLS (the header is in the clear, TLS after it, as
// HAProxy sends it). Like policies.ProtocolWrapper it is always a
// protocol.HalfCloseable, so that it hears of the peer's FIN while it
// reads the header; to a wrapped protocol that is not HalfCloseable the FIN
// ends the connection, as the reactor would end it.
//
// Wrappers are made by [WrappingFactory.BuildProtocol]. The Transport
// methods are safe to call from any goroutine; the Protocol methods run on
// the connection's loop.
type ProtocolWrapper struct {
	protocol.Forwarding // the transport methods it does not change pass straight on

	factory *WrappingFactory

	// Loop goroutine only.
	state     uint8
	innerMade bool
	buf       []byte // the header so far, when it came in several segments
	timer     transport.DelayedCall
	pending   []byte // bytes after the header, held while reading is paused

	// Set on the loop before the wrapped protocol's ConnectionMade, not
	// changed afterwards: any goroutine that got the transport from the
	// protocol may read them.
	inner      protocol.Protocol
	notifier   protocol.WriteBufferNotifier
	halfCloser protocol.HalfCloseable
	resumer    protocol.ReadResumer
	header     *proxyproto.Header
	tlvs       []proxyproto.TLV
	remote     net.Addr
	local      net.Addr
	proxied    bool

	mu   sync.Mutex // guards prod
	prod *producerProxy
}

var (
	_ transport.Transport          = (*ProtocolWrapper)(nil)
	_ protocol.Protocol            = (*ProtocolWrapper)(nil)
	_ protocol.WriteBufferNotifier = (*ProtocolWrapper)(nil)
	_ protocol.HalfCloseable       = (*ProtocolWrapper)(nil)
	_ protocol.ReadResumer         = (*ProtocolWrapper)(nil)
)

// FromTransport finds the ProtocolWrapper behind t, a protocol's transport,
// looking through wrappers that expose what they wrap with an Unwrap method
// (policies.ProtocolWrapper does): a protocol behind haproxy.Wrap calls
// FromTransport(p.Transport()) to read the header's TLVs. It returns nil
// when t is not behind one. Any goroutine, once the protocol is connected.
func FromTransport(t transport.Transport) *ProtocolWrapper {
	for t != nil {
		if w, ok := t.(*ProtocolWrapper); ok {
			return w
		}
		u, ok := t.(interface{ Unwrap() transport.Transport })
		if !ok {
			return nil
		}
		t = u.Unwrap()
	}
	return nil
}

// Wrapped returns the protocol the wrapped factory built, or nil before the
// header was accepted (or when the factory refused the connection). Loop
// goroutine, or any goroutine once the protocol is connected.
func (w *ProtocolWrapper) Wrapped() protocol.Protocol { return w.inner }

// Unwrap returns the real transport, as Transport does, for code that looks
// for a capability through wrappers. Any goroutine once connected.
func (w *ProtocolWrapper) Unwrap() transport.Transport { return w.Transport() }

// Header returns the accepted header as go-proxyproto parsed it (its
// Version, Command, TransportProtocol, SourceAddr and DestinationAddr), or
// nil before it was accepted. It must not be modified. Any goroutine once
// the wrapped protocol is connected.
func (w *ProtocolWrapper) Header() *proxyproto.Header { return w.header }

// Proxied reports whether the header carried the client's addresses (a v1
// TCP4/TCP6 line, a v2 PROXY command), so that RemoteAddr and LocalAddr are
// the client's; false for a v2 LOCAL header or a v1 UNKNOWN one, whose
// connection keeps the real addresses. Any goroutine once the wrapped
// protocol is connected.
func (w *ProtocolWrapper) Proxied() bool { return w.proxied }

// ProxyAddr returns the real peer's address: the proxy's. Any goroutine
// once connected.
func (w *ProtocolWrapper) ProxyAddr() net.Addr { return w.Transport().RemoteAddr() }

// TLVs returns the v2 header's TLVs in the order they came, PP2_TYPE_NOOP
// padding included (with a nil Value); nil for a v1 header or a v2 header
// without any. They must not be modified. Any goroutine once the wrapped
// protocol is connected.
func (w *ProtocolWrapper) TLVs() []proxyproto.TLV { return w.tlvs }

// TLV returns the value of the first TLV of type typ and whether there is
// one. It must not be modified. Any goroutine once the wrapped protocol is
// connected.
func (w *ProtocolWrapper) TLV(typ proxyproto.PP2Type) ([]byte, bool) {
	for _, t := range w.tlvs {
		if t.Type == typ {
			return t.Value, true
		}
	}
	return nil, false
}

// ALPN returns the protocol the client negotiated with the proxy by TLS
// ALPN (PP2_TYPE_ALPN, "h2", "http/1.1"), or nil. Any goroutine once the
// wrapped protocol is connected.
func (w *ProtocolWrapper) ALPN() []byte {
	v, _ := w.TLV(proxyproto.PP2_TYPE_ALPN)
	return v
}

// Authority returns the host name the client asked the proxy for (TLS SNI,
// PP2_TYPE_AUTHORITY), or "". Any goroutine once the wrapped protocol is
// connected.
func (w *ProtocolWrapper) Authority() string {
	v, _ := w.TLV(proxyproto.PP2_TYPE_AUTHORITY)
	return string(v)
}

// UniqueID returns the proxy's unique ID of the connection
// (PP2_TYPE_UNIQUE_ID, HAProxy's unique-id-format), or nil. Any goroutine
// once the wrapped protocol is connected.
func (w *ProtocolWrapper) UniqueID() []byte {
	v, _ := w.TLV(proxyproto.PP2_TYPE_UNIQUE_ID)
	return v
}

// SSL returns what the proxy says of the client's TLS connection
// (PP2_TYPE_SSL: version, cipher, client certificate's CN, whether it was
// verified), parsed by go-proxyproto's tlvparse, and whether the header had
// a well-formed one. Any goroutine once the wrapped protocol is connected.
func (w *ProtocolWrapper) SSL() (tlvparse.PP2SSL, bool) { return tlvparse.FindSSL(w.tlvs) }

// ConnectionMade starts the header timeout. The wrapped protocol is not
// built yet. Loop goroutine.
func (w *ProtocolWrapper) ConnectionMade() {
	if d := w.factory.cfg.headerTimeout; d > 0 {
		w.timer = w.Transport().Loop().CallLater(d, func() { w.timedOut(d) })
	}
}

// DataReceived reads the header from the first bytes, then passes what
// follows to the wrapped protocol. data is valid only until DataReceived
// returns. Loop goroutine.
func (w *ProtocolWrapper) DataReceived(data []byte) {
	switch w.state {
	case stateConnected:
		if w.pending != nil {
			// Bytes held back by a pause come first.
			w.pending = append(w.pending, data...)
			w.deliverPending()
			return
		}
		w.inner.DataReceived(data)
	case stateHeader:
		w.headerData(data)
	}
}

// headerData adds data to the header read so far and, once it is whole,
// accepts or refuses it. A header that came whole in one segment is parsed
// where it lies, without a copy. Loop goroutine.
func (w *ProtocolWrapper) headerData(data []byte) {
	b := data
	if len(w.buf) > 0 {
		w.buf = append(w.buf, data...)
		b = w.buf
	}
	n, err := headerLen(b)
	if err != nil {
		w.refuse(err)
		return
	}
	if n == 0 {
		if len(w.buf) == 0 {
			w.buf = append(make([]byte, 0, max(len(data), 64)), data...)
		}
		return
	}
	h, tlvs, err := parseHeader(b[:n])
	if err != nil {
		w.refuse(err)
		return
	}
	w.accept(h, tlvs, b[n:])
}

// refuse closes the connection because of err, once. Loop goroutine.
func (w *ProtocolWrapper) refuse(err error) {
	w.state = stateDone
	w.stopTimer()
	w.buf = nil
	w.Transport().CloseWithError(err)
}

// timedOut refuses a connection whose header is not whole after d. Loop
// goroutine.
func (w *ProtocolWrapper) timedOut(d time.Duration) {
	if w.state == stateHeader {
		w.refuse(fmt.Errorf("%w: %v, %d bytes received", ErrHeaderTimeout, d, len(w.buf)))
	}
}

func (w *ProtocolWrapper) stopTimer() {
	if w.timer != nil {
		_ = w.timer.Cancel()
		w.timer = nil
	}
}

// accept takes header h: it sets the addresses, asks the wrapped factory for
// the protocol, connects it, then passes it rest, the bytes that followed
// the header. Loop goroutine.
func (w *ProtocolWrapper) accept(h *proxyproto.Header, tlvs []proxyproto.TLV, rest []byte) {
	w.stopTimer()
	w.state = stateDone // until the protocol is built: BuildProtocol may panic
	w.buf = nil
	real := w.Transport()
	w.header, w.tlvs = h, tlvs
	w.remote, w.local = real.RemoteAddr(), real.LocalAddr()
	if h.Command == proxyproto.PROXY && h.SourceAddr != nil && h.DestinationAddr != nil {
		w.remote, w.local, w.proxied = h.SourceAddr, h.DestinationAddr, true
	}
	inner := w.factory.wrapped.BuildProtocol(w.remote)
	if inner == nil {
		// Refused, as the reactor does with a nil protocol.
		real.AbortConnection()
		return
	}
	w.inner = inner
	w.notifier, _ = inner.(protocol.WriteBufferNotifier)
	w.halfCloser, _ = inner.(protocol.HalfCloseable)
	w.resumer, _ = inner.(protocol.ReadResumer)
	w.state = stateConnected
	w.innerMade = true
	protocol.MakeConnection(inner, w)
	if len(rest) == 0 || real.Disconnecting() {
		return
	}
	if real.ReadPaused() {
		w.pending = append([]byte(nil), rest...)
		return
	}
	inner.DataReceived(rest)
}

// deliverable reports whether the wrapped protocol may get data now: it did
// not pause reading and the connection is not closing. Loop goroutine.
func (w *ProtocolWrapper) deliverable() bool {
	real := w.Transport()
	return !real.ReadPaused() && !real.Disconnecting()
}

// deliverPending passes the held bytes to the wrapped protocol if it may
// get them now. Loop goroutine.
func (w *ProtocolWrapper) deliverPending() {
	if !w.deliverable() {
		return
	}
	p := w.pending
	w.pending = nil
	w.inner.DataReceived(p)
}

// ConnectionLost passes reason to the wrapped protocol if it was connected;
// a connection refused before (or lost during) its header ends without a
// protocol callback. Loop goroutine.
func (w *ProtocolWrapper) ConnectionLost(reason error) {
	w.stopTimer()
	w.state = stateDone
	w.buf, w.pending = nil, nil
	if w.innerMade {
		w.innerMade = false
		w.inner.ConnectionLost(reason)
	}
}

// ReadConnectionLost handles the peer's FIN. While the header is read, a
// peer that sent nothing is closed quietly (a connect-only health check)
// and one that sent part of a header is refused with [ErrHeaderTruncated].
// Afterwards it is passed to the wrapped protocol if that is a
// protocol.HalfCloseable; otherwise the connection is ended as the reactor
// ends it for such a protocol. Loop goroutine.
func (w *ProtocolWrapper) ReadConnectionLost() {
	switch w.state {
	case stateHeader:
		if len(w.buf) == 0 {
			w.state = stateDone
			w.stopTimer()
			w.Transport().LoseConnection()
			return
		}
		w.refuse(fmt.Errorf("%w: after %d bytes", ErrHeaderTruncated, len(w.buf)))
	case stateConnected:
		if w.halfCloser != nil {
			w.halfCloser.ReadConnectionLost()
			return
		}
		// As the reactor ends it: a registered producer does not hold this
		// close up.
		w.mu.Lock()
		if w.prod != nil {
			w.prod.eofClose.Store(true)
		}
		w.mu.Unlock()
		w.Transport().LoseConnection()
	}
}

// WriteConnectionLost passes the notice that this side's FIN went out to
// the wrapped protocol, if it is a protocol.HalfCloseable. Loop goroutine.
func (w *ProtocolWrapper) WriteConnectionLost() {
	if w.state == stateConnected && w.halfCloser != nil {
		w.halfCloser.WriteConnectionLost()
	}
}

// WriteBufferFull passes the real transport's notice to the wrapped
// protocol, if it is a protocol.WriteBufferNotifier. Loop goroutine.
func (w *ProtocolWrapper) WriteBufferFull() {
	if w.state == stateConnected && w.notifier != nil {
		w.notifier.WriteBufferFull()
	}
}

// WriteBufferDrained passes the real transport's notice to the wrapped
// protocol, if it is a protocol.WriteBufferNotifier. Loop goroutine.
func (w *ProtocolWrapper) WriteBufferDrained() {
	if w.state == stateConnected && w.notifier != nil {
		w.notifier.WriteBufferDrained()
	}
}

// ReadingResumed passes the real transport's resume on to the wrapped
// protocol (if it is a protocol.ReadResumer), then delivers the bytes that
// followed the header if they were held back by a pause. Loop goroutine.
func (w *ProtocolWrapper) ReadingResumed() {
	if w.state != stateConnected {
		return
	}
	if w.resumer != nil && !w.Transport().ReadPaused() {
		w.resumer.ReadingResumed()
	}
	if w.pending != nil {
		w.deliverPending()
	}
}

// CloseWithError closes the real transport because of err, a peer's fault
// (see transport.Transport). When the header gave the client's address,
// the reason says "(client ADDR)" after err's message, so that the line the
// reactor logs names the client as well as the proxy; errors.Is still
// matches err. Any goroutine.
func (w *ProtocolWrapper) CloseWithError(err error) {
	if err != nil && w.proxied {
		err = fmt.Errorf("%w (client %s)", err, w.remote)
	}
	w.Transport().CloseWithError(err)
}

// RemoteAddr returns the client's address as the header gave it, or the
// real peer's for a LOCAL or UNKNOWN header. Any goroutine once the wrapped
// protocol is connected.
func (w *ProtocolWrapper) RemoteAddr() net.Addr {
	if w.remote != nil {
		return w.remote
	}
	return w.Transport().RemoteAddr()
}

// LocalAddr returns the address the client connected to, as the header gave
// it, or the real transport's own for a LOCAL or UNKNOWN header. Any
// goroutine once the wrapped protocol is connected.
func (w *ProtocolWrapper) LocalAddr() net.Addr {
	if w.local != nil {
		return w.local
	}
	return w.Transport().LocalAddr()
}

// HandshakeCompleted passes a TLS layer's notice that the handshake
// completed (tlsproto.HandshakeListener) on to the wrapped protocol, if it
// has a HandshakeCompleted method. Loop goroutine.
func (w *ProtocolWrapper) HandshakeCompleted() {
	if h, ok := w.inner.(interface{ HandshakeCompleted() }); ok && w.innerMade {
		h.HandshakeCompleted()
	}
}

// RegisterProducer registers p with the real transport, through a proxy
// that lets the peer's FIN end the connection of a protocol that is not
// half-closeable without waiting for p (as the reactor does without a
// wrapper). Any goroutine.
func (w *ProtocolWrapper) RegisterProducer(p transport.Producer, streaming bool) error {
	px := &producerProxy{p: p}
	// Not under w.mu: the transport may call the producer back at once
	// (a pull producer's first ResumeProducing), and it may unregister.
	if err := w.Transport().RegisterProducer(px, streaming); err != nil {
		return err
	}
	w.mu.Lock()
	w.prod = px
	w.mu.Unlock()
	return nil
}

// UnregisterProducer unregisters the producer from the real transport.
// Any goroutine.
func (w *ProtocolWrapper) UnregisterProducer() {
	w.mu.Lock()
	w.prod = nil
	w.mu.Unlock()
	w.Transport().UnregisterProducer()
}

// producerProxy is what the real transport sees as the wrapped protocol's
// producer: it passes every call on, and stops holding a LoseConnection up
// once the peer's FIN ends the connection of a protocol that is not
// half-closeable.
type producerProxy struct {
	p        transport.Producer
	eofClose atomic.Bool
}

var _ transport.ProducerWrapper = (*producerProxy)(nil)

// PauseProducing passes the pause on. Loop goroutine.
func (px *producerProxy) PauseProducing() { px.p.PauseProducing() }

// ResumeProducing passes the resume on. Loop goroutine.
func (px *producerProxy) ResumeProducing() { px.p.ResumeProducing() }

// StopProducing passes the stop on. Loop goroutine.
func (px *producerProxy) StopProducing() { px.p.StopProducing() }

// WrappedProducer returns the producer the proxy stands for, for
// transport.HoldsClose; nil once the peer's FIN ends the connection. Any
// goroutine.
func (px *producerProxy) WrappedProducer() transport.Producer {
	if px.eofClose.Load() {
		return nil
	}
	return px.p
}
