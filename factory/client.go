package factory

import (
	"net"
	"strconv"

	"github.com/whirl-go/whirl/transport"
)

// Connector is one outbound connection attempt and its retries, as a
// [ClientFactory] sees it: Twisted's IConnector. The reactor's
// ConnectTCP and ConnectUnix return one (reactor.Connector implements this
// interface); a factory gets it in every client callback.
//
// Every method is safe from any goroutine.
type Connector interface {
	// Connect starts a new attempt: after a failure or a loss, this is how a
	// client factory reconnects. It does nothing while an attempt is under
	// way or a connection is up. Any goroutine.
	Connect()

	// Disconnect closes the connection if there is one (cleanly, after its
	// output is flushed) or stops the attempt in progress. It does not stop
	// a factory from reconnecting when told of the loss: a factory that
	// retries is stopped with its own method (Reconnecting.StopTrying). Any
	// goroutine.
	Disconnect()

	// StopConnecting abandons the attempt in progress (name lookup or
	// connect); the factory then gets ClientConnectionFailed with a reason
	// matching transport.ErrUserCancelled. It does nothing when no attempt
	// is in progress. Any goroutine.
	StopConnecting()

	// Destination returns the address this connector connects to, as it was
	// given: for a host name that is not yet resolved, a [HostAddr]. Any
	// goroutine.
	Destination() net.Addr

	// Clock returns the clock of the loop the connector's callbacks run on,
	// for scheduling a retry on that loop. Any goroutine.
	Clock() transport.Clock
}

// HostAddr is a destination given by host name and port, before name
// resolution: what [Connector.Destination] returns for "example.com:80".
// Any goroutine may use it.
type HostAddr struct {
	// Net is the network: "tcp", "tcp4", "tcp6".
	Net string
	// Host is the host name or address literal, as given.
	Host string
	// Port is the port number.
	Port int
}

// Network returns a.Net. Any goroutine.
func (a *HostAddr) Network() string { return a.Net }

// String returns "host:port", with an IPv6 literal in brackets. Any goroutine.
func (a *HostAddr) String() string {
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// ClientFactory builds the protocol of an outbound connection and is told
// how each attempt ends: Twisted's ClientFactory. StartFactory runs once per
// Connector.Connect that starts from a stopped factory, StopFactory once
// after a failure or a loss, unless the callback reconnected at once (then
// the factory stays started), following Twisted's client rules.
//
// Every method runs on the connector's loop (the loop its Clock belongs to),
// except StartFactory on the first Connect, which runs on the goroutine that
// calls ConnectTCP or ConnectUnix.
type ClientFactory interface {
	Factory

	// StartedConnecting is called when an attempt starts, before name
	// lookup. Connector's loop.
	StartedConnecting(c Connector)

	// ClientConnectionFailed is called when an attempt fails before a
	// connection was made: refused, timed out, name lookup failed, stopped
	// with StopConnecting, or BuildProtocol returned nil. reason matches one
	// of the reactor's connect errors under errors.Is. Connector's loop.
	ClientConnectionFailed(c Connector, reason error)

	// ClientConnectionLost is called after the protocol's ConnectionLost,
	// with the same reason. Connector's loop.
	ClientConnectionLost(c Connector, reason error)
}

// ClientBase gives no-op client callbacks and StartFactory/StopFactory;
// embed it and write BuildProtocol.
type ClientBase struct{ Base }

// StartedConnecting does nothing. Connector's loop.
func (ClientBase) StartedConnecting(Connector) {}

// ClientConnectionFailed does nothing. Connector's loop.
func (ClientBase) ClientConnectionFailed(Connector, error) {}

// ClientConnectionLost does nothing. Connector's loop.
func (ClientBase) ClientConnectionLost(Connector, error) {}
