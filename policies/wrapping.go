package policies

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// Policy decides what a [WrappingFactory] does with each new connection and
// gives each connection it admits its [Hooks]. The policies of this package
// implement it; write one to add a policy of your own.
type Policy interface {
	// Build is called by the factory's BuildProtocol for a new connection
	// from addr. next asks the wrapped factory for its protocol (nil if that
	// factory refuses); Build calls it at most once. Build returns the
	// protocol to wrap (next's, or another such as an overflow protocol) and
	// the connection's hooks (nil for none), or a nil protocol to refuse the
	// connection, in which case the hooks are ignored and nothing else is
	// called for it. Loop goroutine of the new connection; several loops may
	// call it at once.
	Build(addr net.Addr, next func() protocol.Protocol) (p protocol.Protocol, hooks Hooks)
}

// Hooks are what a [Policy] sees of one wrapped connection. A connection's
// hooks get ConnectionMade first and ConnectionLost last, once each (a Wrote
// from another goroutine may still overlap it). Build may return the same
// Hooks value for every connection when it keeps no per-connection state.
// Embed [NopHooks] to write only some of them.
type Hooks interface {
	// ConnectionMade runs when the wrapper is connected, before the wrapped
	// protocol's ConnectionMade. Loop goroutine.
	ConnectionMade(w *ProtocolWrapper)

	// DataReceived runs for each chunk the connection receives, before the
	// wrapped protocol's DataReceived gets it. data is valid only until it
	// returns. Loop goroutine.
	DataReceived(w *ProtocolWrapper, data []byte)

	// Wrote runs after a Write or WriteSequence through the wrapper handed
	// bytes to the transport, with those bytes (once per buffer of a
	// WriteSequence); failed writes are not reported. data is valid only
	// until it returns. It runs on the goroutine that wrote: any goroutine.
	Wrote(w *ProtocolWrapper, data []byte)

	// ConnectionLost runs once, after the wrapped protocol's ConnectionLost
	// returned (or panicked). Loop goroutine.
	ConnectionLost(w *ProtocolWrapper, reason error)
}

// NopHooks implements [Hooks] with methods that do nothing; embed it in a
// hooks type to write only the methods it needs.
type NopHooks struct{}

// ConnectionMade does nothing. Loop goroutine.
func (NopHooks) ConnectionMade(*ProtocolWrapper) {}

// DataReceived does nothing. Loop goroutine.
func (NopHooks) DataReceived(*ProtocolWrapper, []byte) {}

// Wrote does nothing. Any goroutine.
func (NopHooks) Wrote(*ProtocolWrapper, []byte) {}

// ConnectionLost does nothing. Loop goroutine.
func (NopHooks) ConnectionLost(*ProtocolWrapper, error) {}

// WrappingFactory is a [factory.Factory] that wraps another: Twisted's
// WrappingFactory. Each protocol the wrapped factory builds is put behind a
// [*ProtocolWrapper], which the factory's [Policy] watches through the
// connection's [Hooks].
//
// StartFactory and StopFactory are passed on to the wrapped factory, counted
// as Twisted's doStart and doStop count them: the wrapped factory gets
// StartFactory on the first StartFactory and StopFactory on the matching last
// StopFactory, so a wrapper listened on by several ports, or shared by two
// outer wrappers, starts and stops the wrapped factory once. (A factory
// listened on directly as well as through a wrapper is counted by the reactor
// and by the wrapper separately, and so is started twice.)
//
// A WrappingFactory must be made with [NewWrappingFactory] or one of the
// policy constructors. Its methods are safe to call from any goroutine.
type WrappingFactory struct {
	wrapped factory.Factory
	policy  Policy
	open    atomic.Int64

	starts factory.StartCounter
}

var _ factory.Factory = (*WrappingFactory)(nil)

// NewWrappingFactory returns a factory that wraps f's protocols under policy.
// A nil policy wraps every protocol f builds and does nothing else. Any
// goroutine.
func NewWrappingFactory(f factory.Factory, policy Policy) *WrappingFactory {
	return &WrappingFactory{wrapped: f, policy: policy}
}

// Wrapped returns the factory given to the constructor. Any goroutine.
func (f *WrappingFactory) Wrapped() factory.Factory { return f.wrapped }

// Open returns the number of this factory's wrappers that are connected and
// not yet lost: ConnectionMade ran, ConnectionLost has not. Any goroutine.
func (f *WrappingFactory) Open() int { return int(f.open.Load()) }

// BuildProtocol asks the policy (or, with none, the wrapped factory) for the
// protocol of a connection from addr and returns it inside a
// [*ProtocolWrapper], or returns nil when the connection is refused. The
// wrapper must then be connected with protocol.MakeConnection and, once
// connected, told ConnectionLost, as the reactor does: a policy may have
// counted the connection. Loop goroutine of the new connection; several loops
// may call it at once.
func (f *WrappingFactory) BuildProtocol(addr net.Addr) protocol.Protocol {
	var inner protocol.Protocol
	var hooks Hooks
	if f.policy == nil {
		inner = f.wrapped.BuildProtocol(addr)
	} else {
		inner, hooks = f.policy.Build(addr, func() protocol.Protocol { return f.wrapped.BuildProtocol(addr) })
	}
	if inner == nil {
		return nil
	}
	if hooks == nil {
		hooks = NopHooks{}
	}
	w := &ProtocolWrapper{factory: f, inner: inner, hooks: hooks}
	w.notifier, _ = inner.(protocol.WriteBufferNotifier)
	w.halfCloser, _ = inner.(protocol.HalfCloseable)
	return w
}

// StartFactory calls the wrapped factory's StartFactory if this is the first
// call not matched by a StopFactory. If the wrapped StartFactory panics, the
// call is not counted and the panic goes on. Runs on the goroutine that calls
// ListenTCP (any goroutine).
func (f *WrappingFactory) StartFactory() { f.starts.Start(f.wrapped) }

// StopFactory calls the wrapped factory's StopFactory when it matches the
// first StartFactory; a StopFactory with no StartFactory to match does
// nothing. Runs on the goroutine that calls StopListening or Stop (any
// goroutine).
func (f *WrappingFactory) StopFactory() { f.starts.Stop(f.wrapped) }

// ProtocolWrapper stands between a connection's real transport and the
// protocol a wrapped factory built: Twisted's ProtocolWrapper. To the real
// transport it is the protocol; to the wrapped protocol it is the transport
// (the wrapped protocol's Base.Transport returns the wrapper), passing every
// call through and letting the [Hooks] of its factory's policy see the
// connection's events, reads and writes.
//
// It embeds [protocol.Forwarding]: its Transport method returns the real
// transport, and the transport methods it does not change (closes, addresses,
// socket options, StartTLS, watermarks) pass straight on to it.
// Read pauses are combined: the real transport stays paused while either the
// wrapped protocol (PauseProducing) or the policy (ThrottleReads) wants it.
//
// A producer the wrapped protocol registers reaches the real transport
// through a proxy that is a [transport.ProducerWrapper], so the real
// transport sees what it stands for: the wrapped protocol registering its
// transport (the wrapper) as its own producer does not hold up
// LoseConnection ([transport.HoldsClose]), just as without the wrapper.
//
// It is always a [protocol.HalfCloseable], so that the real transport tells
// it of half-closes, and keeps the wrapped protocol's choice: to a wrapped
// protocol that is HalfCloseable it passes ReadConnectionLost and
// WriteConnectionLost on; for one that is not, the peer's FIN ends the
// connection (ReadConnectionLost calls LoseConnection on the real
// transport, as the reactor does for such a protocol) and
// WriteConnectionLost does nothing. Policies' hooks are not told of
// half-closes.
//
// Wrappers are made by [WrappingFactory.BuildProtocol]. The Transport methods
// are safe to call from any goroutine; the Protocol methods run on the
// connection's loop.
type ProtocolWrapper struct {
	protocol.Forwarding // the transport methods it does not change pass straight on

	factory    *WrappingFactory
	inner      protocol.Protocol
	hooks      Hooks
	notifier   protocol.WriteBufferNotifier
	halfCloser protocol.HalfCloseable

	made, innerMade, lost bool // loop goroutine only

	mu             sync.Mutex // guards the fields below
	readPaused     bool       // the wrapped protocol called PauseProducing
	readThrottled  bool       // the policy called ThrottleReads
	readSent       bool       // the real transport was last told to pause
	writeThrottled bool
	prod           *producerProxy
}

var (
	_ transport.Transport          = (*ProtocolWrapper)(nil)
	_ protocol.Protocol            = (*ProtocolWrapper)(nil)
	_ protocol.WriteBufferNotifier = (*ProtocolWrapper)(nil)
	_ protocol.HalfCloseable       = (*ProtocolWrapper)(nil)
	_ protocol.ReadResumer         = (*ProtocolWrapper)(nil)
)

// Wrapped returns the protocol inside the wrapper. Any goroutine.
func (w *ProtocolWrapper) Wrapped() protocol.Protocol { return w.inner }

// Unwrap returns the real transport, as Transport does, under the name that
// net/http's ResponseController looks for: code that needs a capability of
// the real transport the wrapper does not offer unwraps until it finds it.
// Any goroutine once connected.
func (w *ProtocolWrapper) Unwrap() transport.Transport { return w.Transport() }

// ConnectionMade runs the hooks' ConnectionMade, then connects the wrapped
// protocol with the wrapper as its transport (protocol.MakeConnection).
// Loop goroutine.
func (w *ProtocolWrapper) ConnectionMade() {
	w.made = true
	w.factory.open.Add(1)
	w.hooks.ConnectionMade(w)
	w.innerMade = true
	protocol.MakeConnection(w.inner, w)
}

// DataReceived shows data to the hooks, then passes it to the wrapped
// protocol. data is valid only until DataReceived returns. Loop goroutine.
func (w *ProtocolWrapper) DataReceived(data []byte) {
	w.hooks.DataReceived(w, data)
	w.inner.DataReceived(data)
}

// ConnectionLost passes reason to the wrapped protocol (if its
// ConnectionMade was reached: a hook may have panicked first), then runs the
// hooks' ConnectionLost, even if the wrapped protocol panicked. Only the
// first call after ConnectionMade does anything. Loop goroutine.
func (w *ProtocolWrapper) ConnectionLost(reason error) {
	if !w.made || w.lost {
		return
	}
	w.lost = true
	defer w.release(reason)
	if w.innerMade {
		w.inner.ConnectionLost(reason)
	}
}

func (w *ProtocolWrapper) release(reason error) {
	w.factory.open.Add(-1)
	w.hooks.ConnectionLost(w, reason)
}

// WriteBufferFull passes the real transport's notice to the wrapped
// protocol, if it is a protocol.WriteBufferNotifier. Loop goroutine.
func (w *ProtocolWrapper) WriteBufferFull() {
	if w.notifier != nil {
		w.notifier.WriteBufferFull()
	}
}

// WriteBufferDrained passes the real transport's notice to the wrapped
// protocol, if it is a protocol.WriteBufferNotifier. Loop goroutine.
func (w *ProtocolWrapper) WriteBufferDrained() {
	if w.notifier != nil {
		w.notifier.WriteBufferDrained()
	}
}

// ReadConnectionLost handles the peer's FIN: it is passed to the wrapped
// protocol if that is a protocol.HalfCloseable; otherwise the connection is
// ended as the reactor ends it for such a protocol, with LoseConnection on
// the real transport (output written so far is flushed first). Only calls
// between ConnectionMade and ConnectionLost do anything. Loop goroutine.
func (w *ProtocolWrapper) ReadConnectionLost() {
	if !w.made || w.lost {
		return
	}
	if w.halfCloser == nil {
		// As the reactor ends it: a registered producer does not hold this
		// close up (a relay whose peer is still open must close too).
		w.mu.Lock()
		if w.prod != nil {
			w.prod.eofClose.Store(true)
		}
		w.mu.Unlock()
		w.Transport().LoseConnection()
		return
	}
	if w.innerMade {
		w.halfCloser.ReadConnectionLost()
	}
}

// WriteConnectionLost passes the real transport's notice that this side's
// FIN went out (after LoseWriteConnection) to the wrapped protocol, if it is
// a protocol.HalfCloseable; otherwise it does nothing. Only calls between
// ConnectionMade and ConnectionLost do anything. Loop goroutine.
func (w *ProtocolWrapper) WriteConnectionLost() {
	if w.halfCloser != nil && w.innerMade && !w.lost {
		w.halfCloser.WriteConnectionLost()
	}
}

// Write writes p to the real transport, then shows the hooks what it
// accepted. Any goroutine.
func (w *ProtocolWrapper) Write(p []byte) (int, error) {
	n, err := w.Transport().Write(p)
	if n > 0 {
		w.hooks.Wrote(w, p[:n])
	}
	return n, err
}

// WriteSequence writes bufs to the real transport, then shows the hooks each
// non-empty buffer if it succeeded. Any goroutine.
func (w *ProtocolWrapper) WriteSequence(bufs [][]byte) error {
	if err := w.Transport().WriteSequence(bufs); err != nil {
		return err
	}
	for _, b := range bufs {
		if len(b) > 0 {
			w.hooks.Wrote(w, b)
		}
	}
	return nil
}

// HandshakeCompleted passes a TLS layer's notice that the handshake
// completed (tlsproto.HandshakeListener) on to the wrapped protocol, if it
// has a HandshakeCompleted method. Loop goroutine.
func (w *ProtocolWrapper) HandshakeCompleted() {
	if h, ok := w.inner.(interface{ HandshakeCompleted() }); ok && w.innerMade && !w.lost {
		h.HandshakeCompleted()
	}
}

// PauseProducing pauses reading on the real transport for the wrapped
// protocol. Any goroutine.
func (w *ProtocolWrapper) PauseProducing() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.readPaused = true
	w.syncReadLocked()
}

// ResumeProducing withdraws the wrapped protocol's PauseProducing; reading
// resumes unless the policy throttles it. Any goroutine.
func (w *ProtocolWrapper) ResumeProducing() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.readPaused = false
	w.syncReadLocked()
}

// ReadPaused reports whether reading is paused, by the wrapped protocol or
// by the policy (ThrottleReads). Any goroutine.
func (w *ProtocolWrapper) ReadPaused() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readPaused || w.readThrottled
}

// ReadingResumed passes the real transport's resume on to the wrapped
// protocol, if it implements protocol.ReadResumer and reading is not paused
// for it. Loop goroutine.
func (w *ProtocolWrapper) ReadingResumed() {
	if rr, ok := w.Wrapped().(protocol.ReadResumer); ok && !w.ReadPaused() {
		rr.ReadingResumed()
	}
}

// ThrottleReads pauses reading on the real transport for the policy, on top
// of any pause the wrapped protocol asked for: Twisted's throttleReads.
// Any goroutine.
func (w *ProtocolWrapper) ThrottleReads() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.readThrottled = true
	w.syncReadLocked()
}

// UnthrottleReads withdraws ThrottleReads; reading resumes unless the wrapped
// protocol paused it. Any goroutine.
func (w *ProtocolWrapper) UnthrottleReads() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.readThrottled = false
	w.syncReadLocked()
}

// syncReadLocked tells the real transport to pause or resume when the
// combined wish changed. Holding w.mu keeps the calls in the order of the
// decisions; the transport's PauseProducing and ResumeProducing never call
// back. w.mu must be held.
func (w *ProtocolWrapper) syncReadLocked() {
	want := w.readPaused || w.readThrottled
	if want == w.readSent {
		return
	}
	w.readSent = want
	if want {
		w.Transport().PauseProducing()
	} else {
		w.Transport().ResumeProducing()
	}
}
