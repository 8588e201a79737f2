package loadgen_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// spreadFactory makes one connection and counts it under its loop's clock.
type spreadFactory struct {
	factory.ClientBase
	mu     *sync.Mutex
	counts map[transport.Clock]int
	made   chan struct{}
	clock  transport.Clock // its connector's loop, set on that loop
}

func (f *spreadFactory) StartedConnecting(c factory.Connector) { f.clock = c.Clock() }

func (f *spreadFactory) BuildProtocol(net.Addr) protocol.Protocol { return &spreadProto{f: f} }

type spreadProto struct {
	protocol.Base
	f *spreadFactory
}

func (p *spreadProto) ConnectionMade() {
	p.f.mu.Lock()
	p.f.counts[p.f.clock]++
	p.f.mu.Unlock()
	p.f.made <- struct{}{}
}

// TestConnectorSpreadsABurstOverLoops shows a weakness of the reactor's
// connector, found by the whirl load generator (RunWhirl): ConnectTCP puts a
// connector on the loop with the fewest connected connections
// (Reactor.pickLoop compares loop.nconns), and an attempt in progress is not
// counted there. So connectors made in a burst while one loop has a
// connection more than the other all go to that other loop. With 2 loops,
// one connection made first and then 40 connectors made at once, the split
// was 1 against 40 in 4 runs of 5 (the accept side keeps each loop within
// 40-60%: reactor's TestConnectionsBalancedOverLoops). RunWhirl, which makes
// up to 64 attempts at a time, got 31 and 69 of 100 connections. The fix belongs in
// reactor/ (count attempts in the loop's load, or spread ties and attempts
// round-robin); this test is skipped until then.
func TestConnectorSpreadsABurstOverLoops(t *testing.T) {
	t.Skip("reactor: ConnectTCP's loop choice ignores attempts in progress, so a burst of connectors lands on one loop (see the comment)")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open until the listener closes
		}
	}()
	r := reactor.New(reactor.WithLoops(2))
	ran := make(chan struct{})
	go func() { defer close(ran); _ = r.Run(context.Background()) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.Stop(ctx)
		cancel()
		<-ran
	}()
	var mu sync.Mutex
	counts := make(map[transport.Clock]int)
	made := make(chan struct{}, 64)
	connect := func() {
		f := &spreadFactory{mu: &mu, counts: counts, made: made}
		if _, err := r.ConnectTCP(context.Background(), ln.Addr().String(), f); err != nil {
			t.Fatal(err)
		}
	}
	connect()
	<-made // one loop has one connection, the other none
	const burst = 40
	for range burst {
		connect()
	}
	for range burst {
		select {
		case <-made:
		case <-time.After(10 * time.Second):
			t.Fatal("connections not made")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for clock, n := range counts {
		if n < (burst+1)*3/10 {
			t.Errorf("a loop got %d of %d connections, want 30-70%% each (all: %v, clock %p)", n, burst+1, counts, clock)
		}
	}
	if len(counts) < 2 {
		t.Errorf("every connection went to one loop: %v", counts)
	}
}
