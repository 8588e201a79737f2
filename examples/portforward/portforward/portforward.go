package portforward

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// Errors of the package, wrapped with the offending value; test for them with
// [errors.Is].
var (
	// ErrNoDestination means the factory was given no destination (an empty
	// --connect).
	ErrNoDestination = errors.New("portforward: --connect is required")
	// ErrNoReactor means the factory's Reactor was not set before it served
	// a connection.
	ErrNoReactor = errors.New("portforward: no reactor to connect with")
)

// Factory forwards every connection it is given to Dest: it builds an
// [Inbound] per connection, which connects to Dest on Reactor. Set Reactor
// and Dest (or Connect, then call Check) before the port listens, and leave
// them alone afterwards. One Factory may serve several ports and every loop
// of a reactor at once.
type Factory struct {
	factory.Base

	// Reactor makes the outbound connections: the reactor that serves the
	// factory's port, so that both sides of a forward live on its loops.
	Reactor *reactor.Reactor

	// Dest is where connections are forwarded: a tcp or unix client
	// endpoint, with its connect timeout (default 30 s).
	Dest endpoint.Client

	// Connect is Dest as a client endpoint string (--connect): Check parses
	// it into Dest. Leave it empty when setting Dest directly.
	Connect string

	// Log receives a line per failed outbound connection (warn), and per
	// forward opened and closed (debug). The zero value logs nothing.
	Log zerolog.Logger

	inbound   atomic.Int64 // connections accepted
	forwarded atomic.Int64 // outbound connections made
	failed    atomic.Int64 // outbound connections that failed
	up        atomic.Int64 // bytes received from inbound peers
	down      atomic.Int64 // bytes received from outbound peers
}

// RegisterFlags defines --connect on fs, storing its value in f.Connect. Any
// goroutine, before the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.Connect, "connect", "", "`address` to forward to (required): tcp:HOST:PORT, tcp:host=HOST:port=PORT[:timeout=SECONDS][:bindAddress=IP], unix:path=PATH, or host:port")
}

// Check parses f.Connect with endpoint.ParseClient into f.Dest. It returns
// an error wrapping [ErrNoDestination] when f.Connect is empty, and the
// endpoint package's error for a string it refuses. Any goroutine, before
// the factory serves.
func (f *Factory) Check() error {
	if f.Connect == "" {
		return ErrNoDestination
	}
	dest, err := endpoint.ParseClient(f.Connect)
	if err != nil {
		return err
	}
	f.Dest = dest
	return nil
}

// BuildProtocol returns a new [Inbound] that forwards to f.Dest. Any goroutine
// (the reactor calls it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	return &Inbound{factory: f}
}

// Stats are a Factory's counters since it was made.
type Stats struct {
	// Inbound is the number of connections accepted.
	Inbound int64
	// Forwarded is the number of outbound connections made.
	Forwarded int64
	// Failed is the number of outbound connections that could not be made.
	Failed int64
	// Up is the number of bytes received from inbound peers (and written to
	// their outbound connections).
	Up int64
	// Down is the number of bytes received from outbound peers (and written
	// to their inbound connections).
	Down int64
}

// Stats returns the factory's counters. Any goroutine.
func (f *Factory) Stats() Stats {
	return Stats{
		Inbound:   f.inbound.Load(),
		Forwarded: f.forwarded.Load(),
		Failed:    f.failed.Load(),
		Up:        f.up.Load(),
		Down:      f.down.Load(),
	}
}

// Serve makes a reactor with opts and log, listens on listen (an endpoint
// string, see reactor.Reactor.Listen) with f, forwarding to f.Dest on that
// reactor, and runs until ctx is done; the reactor then stops gracefully. It
// sets f.Reactor and f.Log. It logs "listening"
// with the bound address (field "addr") and the destination, and "stopped"
// when the reactor has stopped; ready, if not nil, is called with the bound
// address before the reactor runs. It returns nil after a stop caused by
// ctx, and otherwise the error that kept it from listening or running. Any
// goroutine; it blocks.
func Serve(ctx context.Context, log zerolog.Logger, listen string, f *Factory, ready func(net.Addr), opts ...reactor.Option) error {
	if f.Dest.Kind == 0 {
		return ErrNoDestination
	}
	r := reactor.New(append(opts[:len(opts):len(opts)], reactor.WithLogger(log))...)
	f.Reactor, f.Log = r, log
	port, err := r.Listen(listen, f)
	if err != nil {
		return fmt.Errorf("portforward: listen on %s: %w", listen, err)
	}
	log.Info().Str("addr", port.Addr().String()).Str("listen", listen).Stringer("connect", f.Dest).Msg("listening")
	if ready != nil {
		ready(port.Addr())
	}
	start := time.Now()
	err = r.Run(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Stringer("uptime", time.Since(start).Round(time.Millisecond)).Msg("stopped")
	return err
}

// Inbound is the protocol of an accepted connection: a [protocol.Relay]
// (paused from ConnectionMade until it is spliced) that connects to its
// factory's destination when it is made, and is spliced with the outbound
// connection once that is up: Twisted's ProxyServer. Inbounds are made by
// [Factory.BuildProtocol]; every method runs on the connection's loop.
type Inbound struct {
	protocol.Relay

	factory *Factory

	// Loop goroutine only.
	connector *reactor.Connector // nil until ConnectionMade asked for one
	received  int64
}

// ConnectionMade pauses the connection (the Relay does) and starts the
// outbound connection. If it cannot be started (no reactor, the reactor is
// stopping), the connection is closed. Loop goroutine.
func (in *Inbound) ConnectionMade() {
	in.Relay.ConnectionMade()
	f := in.factory
	f.inbound.Add(1)
	r := f.Reactor
	if r == nil {
		in.fail(ErrNoReactor)
		return
	}
	c, err := r.ConnectEndpoint(context.Background(), f.Dest, &clientFactory{in: in})
	if err != nil {
		in.fail(err)
		return
	}
	in.connector = c
}

// DataReceived relays data to the outbound connection. Loop goroutine.
func (in *Inbound) DataReceived(data []byte) {
	in.received += int64(len(data))
	in.factory.up.Add(int64(len(data)))
	in.Relay.DataReceived(data)
}

// ConnectionLost closes the outbound connection once what it was sent is
// flushed (the Relay does, once spliced), or abandons it if it is still
// being made (the client factory is then told the attempt was cancelled,
// and logs it at debug level). Loop goroutine.
func (in *Inbound) ConnectionLost(reason error) {
	in.Relay.ConnectionLost(reason)
	if in.connector != nil {
		in.connector.Disconnect()
	}
	in.factory.Log.Debug().Stringer("peer", in.Transport().RemoteAddr()).Int64("up", in.received).
		AnErr("reason", reason).Msg("inbound closed")
}

// fail logs why no outbound connection could be started and closes the
// connection. Loop goroutine.
func (in *Inbound) fail(err error) {
	in.factory.failed.Add(1)
	in.factory.Log.Error().Stringer("peer", in.Transport().RemoteAddr()).Stringer("dest", in.factory.Dest).
		Err(err).Msg("cannot forward")
	in.Transport().LoseConnection()
}

// clientFactory makes the one outbound connection of an Inbound and closes
// the Inbound if it fails: Twisted's ProxyClientFactory. Its methods run on
// the connector's loop.
type clientFactory struct {
	factory.ClientBase
	in *Inbound
}

// BuildProtocol returns the outbound side of in's forward.
func (cf *clientFactory) BuildProtocol(net.Addr) protocol.Protocol {
	return &outbound{in: cf.in}
}

// ClientConnectionFailed closes the inbound connection (it has read nothing)
// and logs the reason: at warn level, with its class (refused, timeout, ...),
// unless the inbound side cancelled the attempt by going away.
func (cf *clientFactory) ClientConnectionFailed(c factory.Connector, reason error) {
	in, f := cf.in, cf.in.factory
	f.failed.Add(1)
	ev := f.Log.Warn()
	if errors.Is(reason, transport.ErrUserCancelled) {
		ev = f.Log.Debug()
	}
	ev.Stringer("peer", in.Transport().RemoteAddr()).Stringer("dest", c.Destination()).
		Str("kind", Kind(reason)).Err(reason).Msg("outbound connection failed; closing inbound")
	in.Transport().LoseConnection()
}

// Kind names the class of a connect failure, for logs: "refused",
// "timeout", "dns", "no-route", "cancelled", or "failed" for any other
// error. Any goroutine.
func Kind(err error) string {
	switch {
	case errors.Is(err, transport.ErrConnectionRefused):
		return "refused"
	case errors.Is(err, transport.ErrTimeout):
		return "timeout"
	case errors.Is(err, transport.ErrDNSLookup):
		return "dns"
	case errors.Is(err, transport.ErrNoRoute):
		return "no-route"
	case errors.Is(err, transport.ErrUserCancelled):
		return "cancelled"
	}
	return "failed"
}

// outbound is the protocol of the outbound connection: a Relay spliced with
// its Inbound as soon as it is made (Twisted's ProxyClient). Its methods run
// on the connector's loop.
type outbound struct {
	protocol.Relay
	in       *Inbound
	received int64
}

// ConnectionMade splices the two sides; each starts reading once its own
// loop has taken its part of the splice. If the inbound side went away
// meanwhile, the splice closes this one.
func (o *outbound) ConnectionMade() {
	o.Relay.ConnectionMade()
	f := o.in.factory
	f.forwarded.Add(1)
	t := o.Transport()
	f.Log.Debug().Stringer("peer", o.in.Transport().RemoteAddr()).Stringer("local", t.LocalAddr()).
		Stringer("dest", t.RemoteAddr()).Msg("forwarding")
	protocol.Splice(&o.in.Relay, &o.Relay)
}

// DataReceived relays data to the inbound connection.
func (o *outbound) DataReceived(data []byte) {
	o.received += int64(len(data))
	o.in.factory.down.Add(int64(len(data)))
	o.Relay.DataReceived(data)
}

// ConnectionLost closes the inbound connection once what it was sent is
// flushed (the Relay does).
func (o *outbound) ConnectionLost(reason error) {
	o.Relay.ConnectionLost(reason)
	o.in.factory.Log.Debug().Stringer("dest", o.Transport().RemoteAddr()).Int64("down", o.received).
		AnErr("reason", reason).Msg("outbound closed")
}
