package factory

import (
	"net"

	"github.com/whirl-go/whirl/protocol"
)

// Factory builds protocols for a port: Twisted's IProtocolFactory.
type Factory interface {
	// BuildProtocol returns the protocol for a new connection from addr, or
	// nil to refuse it: the connection is then closed at once and no
	// protocol callback runs. A concrete factory sets its back-pointer here:
	// return &Chat{room: f.room}. Runs on the new connection's loop, possibly
	// on several loops at once.
	BuildProtocol(addr net.Addr) protocol.Protocol

	// StartFactory is called once before the factory's first port accepts a
	// connection. Runs on the goroutine that calls ListenTCP.
	StartFactory()

	// StopFactory is called once after the factory's last port stopped
	// listening. Runs on the goroutine that calls StopListening or Stop.
	StopFactory()
}

// Base gives no-op StartFactory and StopFactory; embed it and write
// BuildProtocol.
type Base struct{}

// StartFactory does nothing. Goroutine of ListenTCP.
func (Base) StartFactory() {}

// StopFactory does nothing. Goroutine of StopListening or Stop.
func (Base) StopFactory() {}

// ForProtocol returns a factory that calls newProtocol for every connection,
// with no-op StartFactory and StopFactory: Twisted's Factory.forProtocol.
// newProtocol may run on several loops at once. Any goroutine.
func ForProtocol(newProtocol func() protocol.Protocol) Factory {
	return &funcFactory{newProtocol: newProtocol}
}

type funcFactory struct {
	Base
	newProtocol func() protocol.Protocol
}

// BuildProtocol calls the function given to ForProtocol.
func (f *funcFactory) BuildProtocol(net.Addr) protocol.Protocol { return f.newProtocol() }
