package haproxy

import (
	"net"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// DefaultHeaderTimeout is how long a connection may take to send its whole
// PROXY protocol header before it is closed with [ErrHeaderTimeout]. A proxy
// sends the header at once, with the connection's first bytes; 3 s covers a
// lost first segment's retransmission (the initial RTO is 1 s) twice over.
const DefaultHeaderTimeout = 3 * time.Second

// Option sets a setting of [Wrap]. The zero value of every setting means its
// default.
type Option func(*config)

type config struct {
	headerTimeout time.Duration
}

// WithHeaderTimeout sets how long a connection may take to send its whole
// header: 0 means [DefaultHeaderTimeout], a negative d no limit (only for a
// port that no one but the proxy can reach). Any goroutine.
func WithHeaderTimeout(d time.Duration) Option {
	return func(c *config) { c.headerTimeout = d }
}

// WrappingFactory is a [factory.Factory] for a port behind a proxy that
// speaks the PROXY protocol (HAProxy's send-proxy and send-proxy-v2, and
// the load balancers that copied them): Twisted's HAProxyWrappingFactory,
// without its faults. Each connection first reads the proxy's header; only
// then does the wrapped factory build the protocol (BuildProtocol gets the
// client's address) and the protocol get ConnectionMade, with a transport
// whose RemoteAddr and LocalAddr are those the header gives. See
// [ProtocolWrapper] for the details.
//
// StartFactory and StopFactory are passed on to the wrapped factory, counted
// as Twisted's doStart and doStop count them.
//
// A WrappingFactory must be made with [Wrap]. Its methods are safe to call
// from any goroutine.
type WrappingFactory struct {
	wrapped factory.Factory
	cfg     config

	starts factory.StartCounter
}

var _ factory.Factory = (*WrappingFactory)(nil)

// Wrap returns a factory whose connections start with a PROXY protocol
// header (v1 or v2) and whose protocols f builds once the header is
// accepted. Wrap f inside the connection policies that should see the
// clients' addresses (policies.LimitConnectionsByPeer), and outside those
// that should see the proxy's. The reactor's "haproxy:" endpoints
// ("haproxy:tcp:8080") wrap their factory with Wrap. Any goroutine.
func Wrap(f factory.Factory, opts ...Option) *WrappingFactory {
	w := &WrappingFactory{wrapped: f}
	for _, o := range opts {
		o(&w.cfg)
	}
	if w.cfg.headerTimeout == 0 {
		w.cfg.headerTimeout = DefaultHeaderTimeout
	}
	return w
}

// Wrapped returns the factory given to Wrap. Any goroutine.
func (f *WrappingFactory) Wrapped() factory.Factory { return f.wrapped }

// HeaderTimeout returns how long a connection may take to send its header;
// negative means no limit. Any goroutine.
func (f *WrappingFactory) HeaderTimeout() time.Duration { return f.cfg.headerTimeout }

// BuildProtocol returns a new [*ProtocolWrapper] for a connection from addr
// (the proxy's address). The wrapped factory is not asked yet: it is asked
// once the header is accepted, with the client's address. Loop goroutine of
// the new connection; several loops may call it at once.
func (f *WrappingFactory) BuildProtocol(addr net.Addr) protocol.Protocol {
	return &ProtocolWrapper{factory: f}
}

// StartFactory calls the wrapped factory's StartFactory if this is the first
// call not matched by a StopFactory. If the wrapped StartFactory panics, the
// call is not counted and the panic goes on. Runs on the goroutine that
// calls ListenTCP (any goroutine).
func (f *WrappingFactory) StartFactory() { f.starts.Start(f.wrapped) }

// StopFactory calls the wrapped factory's StopFactory when it matches the
// first StartFactory; a StopFactory with no StartFactory to match does
// nothing. Runs on the goroutine that calls StopListening or Stop (any
// goroutine).
func (f *WrappingFactory) StopFactory() { f.starts.Stop(f.wrapped) }
