package factory_test

import (
	"fmt"
	"net"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// pinger is the protocol of each connection.
type pinger struct{ protocol.Base }

func (p *pinger) ConnectionMade() { fmt.Println("connected") }

// pingFactory reconnects with Twisted's backoff, and says what it does.
type pingFactory struct{ factory.Reconnecting }

func (f *pingFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.ResetDelay() // connected: the next loss starts again from InitialDelay
	return &pinger{}
}

func (f *pingFactory) ClientConnectionFailed(c factory.Connector, reason error) {
	f.Reconnecting.ClientConnectionFailed(c, reason) // schedules the retry
	f.report("failed", reason)
}

func (f *pingFactory) ClientConnectionLost(c factory.Connector, reason error) {
	f.Reconnecting.ClientConnectionLost(c, reason) // schedules the retry
	f.report("lost", reason)
}

func (f *pingFactory) report(what string, reason error) {
	if !f.RetryPending() {
		fmt.Printf("%s (%v), giving up\n", what, reason)
		return
	}
	fmt.Printf("%s (%v), retry %d in %v\n", what, reason, f.Retries(), f.Delay())
}

// flakyConnector stands in for the connector that reactor's ConnectTCP
// returns: its first attempts are refused, and its callbacks run when the
// example calls them, on a fake clock.
type flakyConnector struct {
	clock  *transporttest.Clock
	f      factory.ClientFactory
	refuse int // attempts to refuse before one connects
	proto  protocol.Protocol
}

func (c *flakyConnector) Connect() {
	if c.proto != nil {
		return // connected
	}
	c.f.StartedConnecting(c)
	if c.refuse > 0 {
		c.refuse--
		c.f.ClientConnectionFailed(c, transport.ErrConnectionRefused)
		return
	}
	tr := transporttest.NewWithLoop(transporttest.NewLoop(c.clock))
	c.proto = c.f.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(c.proto, tr)
}

// drop loses the connection, as a network failure would.
func (c *flakyConnector) drop() {
	p := c.proto
	c.proto = nil
	p.ConnectionLost(transport.ErrConnectionLost)
	c.f.ClientConnectionLost(c, transport.ErrConnectionLost)
}

func (c *flakyConnector) Disconnect()     {}
func (c *flakyConnector) StopConnecting() {} // no attempt outlives Connect
func (c *flakyConnector) Destination() net.Addr {
	return &factory.HostAddr{Net: "tcp", Host: "db.example", Port: 5432}
}
func (c *flakyConnector) Clock() transport.Clock { return c.clock }

func ExampleReconnecting() {
	f := &pingFactory{}
	f.Jitter = -1 // no jitter, for a reproducible output
	f.MaxRetries = 2

	clock := transporttest.NewClock()
	c := &flakyConnector{clock: clock, f: f, refuse: 2}
	c.Connect() // what reactor's ConnectTCP does

	clock.Advance(f.Delay()) // the first retry is refused too
	clock.Advance(f.Delay()) // the second connects
	c.drop()                 // the delay starts again from InitialDelay×Factor

	c.refuse = 5
	for f.RetryPending() {
		clock.Advance(f.Delay())
	}

	c.refuse = 0
	f.ResetDelay() // later, start again by hand
	c.Connect()
	f.StopTrying() // at shutdown: no retry, whatever is reported later
	c.drop()
	// Output:
	// failed (transport: connection refused), retry 1 in 2.718281828s
	// failed (transport: connection refused), retry 2 in 7.389056099s
	// connected
	// lost (transport: connection lost), retry 1 in 2.718281828s
	// failed (transport: connection refused), retry 2 in 7.389056099s
	// failed (transport: connection refused), giving up
	// connected
	// lost (transport: connection lost), giving up
}
