package reactor_test

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

// TestConnectorSpreadsABurstOverLoops: connectors made in a burst spread
// over the loops. A connector goes to the least-loaded loop, and a loop's
// load counts the connect attempts asked of it as well as its connections:
// when only connections counted, 40 connectors made at once after one
// connection all went to the other loop (found by the bench's whirl client,
// which got 31 and 69 of 100 connections).
func TestConnectorSpreadsABurstOverLoops(t *testing.T) {
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
