package servers

import (
	"context"
	"net"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// lineEcho sends back every line it receives: the line protocol a Twisted
// user would write with basic.LineReceiver. Like examples/echo, it registers
// its transport as the producer of its own output, so a peer that does not
// read is pushed back.
type lineEcho struct{ protocol.LineReceiver }

// ConnectionMade registers the transport as its own producer. Loop goroutine.
func (e *lineEcho) ConnectionMade() {
	_ = e.Transport().RegisterProducer(e.Transport(), true)
}

// LineReceived writes the line and the delimiter back. Loop goroutine.
func (e *lineEcho) LineReceived(line []byte) { _ = e.SendLine(line) }

func serveWhirlLine(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	r := reactor.New(reactor.WithLoops(o.loops()))
	f := factory.ForProtocol(func() protocol.Protocol { return &lineEcho{} })
	p, err := r.ListenTCP(addr, f)
	if err != nil {
		return err
	}
	ready(p.Addr())
	return r.Run(ctx)
}
