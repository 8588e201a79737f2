package reactor_test

import (
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
	"github.com/whirl-go/whirl/transport"
)

// reportingSelfProducer is selfProducing (the bounded echo of examples/echo)
// that also reports its transport.
type reportingSelfProducer struct {
	selfProducing
	made chan transport.Transport
}

func (e *reportingSelfProducer) ConnectionMade() {
	e.selfProducing.ConnectionMade()
	e.made <- e.Transport()
}

// An idle connection that echoed, with its transport registered as its own
// producer, holds no connExt: that state is paid only by connections that
// need it (idle memory per connection is a benchmark target).
func TestIdleConnectionHasNoExt(t *testing.T) {
	made := make(chan transport.Transport, 1)
	p := reactortest.Serve(t, factory.ForProtocol(func() protocol.Protocol { return &reportingSelfProducer{made: made} }))
	c := dial(t, p)
	var tr transport.Transport
	select {
	case tr = <-made:
	case <-time.After(5 * time.Second):
		t.Fatal("ConnectionMade not called")
	}
	for range 10 {
		roundTrip(t, c, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	}
	has := make(chan bool, 1)
	if err := tr.Loop().CallSoon(func() { has <- reactor.HasConnExt(tr) }); err != nil {
		t.Fatal(err)
	}
	if <-has {
		t.Error("an idle echo connection allocated its connExt")
	}

	// Per-transport watermarks are rare state: setting them allocates it.
	tr.SetWriteWatermarks(1<<20, 1<<10)
	if err := tr.Loop().CallSoon(func() { has <- reactor.HasConnExt(tr) }); err != nil {
		t.Fatal(err)
	}
	if !<-has {
		t.Error("SetWriteWatermarks did not record the watermarks in connExt")
	}
}
