package tlsproto

import (
	"crypto/tls"
	"net"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// Factory is a factory.Factory that puts TLS under the protocols of
// another: Twisted's TLSMemoryBIOFactory. Each connection's protocol is a
// [Conn]; the wrapped factory's BuildProtocol runs once the handshake
// completed (a failed handshake never reaches it), and the protocol it
// builds is connected with the Conn as its transport. Listen on it where
// TLS must sit inside another wrapper (behind a PROXY-protocol wrapper, or
// with a policy that must count handshakes); reactor.ListenTLS does the
// same without it.
//
// StartFactory and StopFactory are passed on, counted as
// policies.WrappingFactory counts them.
//
// A Factory must be made with [NewFactory]. Its methods are safe to call
// from any goroutine.
type Factory struct {
	wrapped factory.Factory
	cfg     *tls.Config
	server  bool
	opts    *Options

	starts factory.StartCounter
}

var _ factory.Factory = (*Factory)(nil)

// NewFactory returns a factory serving f's protocols over TLS with cfg: as
// the server when serverSide is true (the usual case: listen on it), else
// as the client. opts may be nil; a nil opts.Limiter gives the factory a
// Limiter of its own. Any goroutine.
func NewFactory(f factory.Factory, cfg *tls.Config, serverSide bool, opts *Options) *Factory {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Limiter == nil {
		o.Limiter = NewLimiter(0)
	}
	return &Factory{wrapped: f, cfg: cfg, server: serverSide, opts: &o}
}

// Wrapped returns the factory given to NewFactory. Any goroutine.
func (f *Factory) Wrapped() factory.Factory { return f.wrapped }

// BuildProtocol returns the TLS layer of a new connection from addr; the
// wrapped factory builds its protocol after the handshake. Loop goroutine
// of the new connection.
func (f *Factory) BuildProtocol(addr net.Addr) protocol.Protocol {
	return newBuilding(func() protocol.Protocol { return f.wrapped.BuildProtocol(addr) }, f.cfg, f.server, f.opts)
}

// StartFactory calls the wrapped factory's StartFactory on the first call
// not matched by a StopFactory. Runs on the goroutine that listens (any
// goroutine).
func (f *Factory) StartFactory() { f.starts.Start(f.wrapped) }

// StopFactory calls the wrapped factory's StopFactory when it matches the
// first StartFactory. Runs on the goroutine that stops listening (any
// goroutine).
func (f *Factory) StopFactory() { f.starts.Stop(f.wrapped) }
