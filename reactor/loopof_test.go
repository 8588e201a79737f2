package reactor_test

import (
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

type loopRecorder struct {
	protocol.Base
	loops chan transport.Loop
}

func (p *loopRecorder) ConnectionMade() { p.loops <- transport.LoopOf(p.Transport()) }

// TestLoopOf: connections on one loop share one value, through a policy
// wrapper too; with two loops there are two values.
func TestLoopOf(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	running(t, r)
	loops := make(chan transport.Loop, 16)
	f := policies.LimitTotalConnections(factory.ForProtocol(func() protocol.Protocol { return &loopRecorder{loops: loops} }), 100, nil)
	p := listen(t, r, f)
	seen := map[transport.Loop]int{}
	for range 8 {
		dial(t, p)
		select {
		case l := <-loops:
			seen[l]++
		case <-time.After(5 * time.Second):
			t.Fatal("no connection")
		}
	}
	if len(seen) != 2 {
		t.Fatalf("8 connections over 2 loops gave %d loop values: %v", len(seen), seen)
	}
}
