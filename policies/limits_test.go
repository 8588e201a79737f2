package policies_test

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// busy tells the peer to come back later and hangs up.
type busy struct{ protocol.Base }

func (b *busy) ConnectionMade() {
	_, _ = b.Transport().Write([]byte("busy\r\n"))
	b.Transport().LoseConnection()
}

func newBusy() protocol.Protocol { return &busy{} }

func TestLimitTotalConnections(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		overflow func() protocol.Protocol
		conns    int
		served   int // connections that reach the wrapped factory
		busy     int // connections given the overflow protocol
	}{
		{"under", 3, nil, 2, 2, 0},
		{"at", 3, nil, 3, 3, 0},
		{"over refused", 3, nil, 5, 3, 0},
		{"over overflow", 3, newBusy, 5, 3, 2},
		{"overflow refusing", 1, func() protocol.Protocol { return nil }, 3, 1, 0},
		{"no limit", 0, newBusy, 5, 5, 0},
		{"negative no limit", -1, nil, 4, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &testFactory{}
			wf := policies.LimitTotalConnections(f, tt.limit, tt.overflow)
			served, busies := 0, 0
			for range tt.conns {
				tr := transporttest.New()
				p := wf.BuildProtocol(tr.RemoteAddr())
				if p == nil {
					continue
				}
				protocol.MakeConnection(p, tr)
				switch p.(*policies.ProtocolWrapper).Wrapped().(type) {
				case *recorder:
					served++
				case *busy:
					busies++
					if got := string(tr.Value()); got != "busy\r\n" || !tr.Disconnecting() {
						t.Errorf("overflow connection wrote %q, disconnecting %v; want %q, true", got, tr.Disconnecting(), "busy\r\n")
					}
				}
			}
			if served != tt.served || busies != tt.busy {
				t.Errorf("served %d, busy %d; want %d, %d", served, busies, tt.served, tt.busy)
			}
			if got := int(f.built.Load()); got != tt.served {
				t.Errorf("wrapped factory built %d protocols, want %d", got, tt.served)
			}
		})
	}
}

func TestLimitTotalConnectionsRelease(t *testing.T) {
	f := &testFactory{}
	wf := policies.LimitTotalConnections(f, 2, nil)
	a, _ := connect(t, wf, transporttest.New())
	connect(t, wf, transporttest.New())
	if p := wf.BuildProtocol(nil); p != nil {
		t.Fatal("third connection admitted over a limit of 2")
	}
	a.ConnectionLost(transport.ErrConnectionDone)
	a.ConnectionLost(transport.ErrConnectionDone) // counted once
	connect(t, wf, transporttest.New())
	if p := wf.BuildProtocol(nil); p != nil {
		t.Fatal("connection admitted over the limit after one was lost twice")
	}

	// Refusals and panics in the wrapped factory give the place back.
	f2 := &testFactory{refuse: true}
	wf2 := policies.LimitTotalConnections(f2, 1, nil)
	for range 3 {
		if p := wf2.BuildProtocol(nil); p != nil {
			t.Fatal("refused connection admitted")
		}
	}
	f2.refuse = false
	connect(t, wf2, transporttest.New())

	wf3 := policies.LimitTotalConnections(factory.ForProtocol(func() protocol.Protocol { panic("build") }), 1, nil)
	for range 2 {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("BuildProtocol's panic did not go on")
				}
			}()
			wf3.BuildProtocol(nil)
		}()
	}
}

// liveCounter is a protocol factory that tracks how many of its protocols are
// connected at once, per key.
type liveCounter struct {
	mu       sync.Mutex
	live     map[string]int
	maxSeen  map[string]int
	admitted atomic.Int64
}

type liveProto struct {
	protocol.Base
	c   *liveCounter
	key string
}

func (p *liveProto) ConnectionMade() {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.live[p.key]++
	p.c.maxSeen[p.key] = max(p.c.maxSeen[p.key], p.c.live[p.key])
	p.c.admitted.Add(1)
}

func (p *liveProto) ConnectionLost(error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.live[p.key]--
}

func (c *liveCounter) BuildProtocol(addr net.Addr) protocol.Protocol {
	key := "none"
	if a, ok := addr.(*net.TCPAddr); ok {
		key = a.IP.String()
	}
	return &liveProto{c: c, key: key}
}

func (c *liveCounter) StartFactory() {}
func (c *liveCounter) StopFactory()  {}

// hammer builds and loses connections from many goroutines at once, as
// several loops do, with peers taken in turn from peers.
func hammer(t *testing.T, wf *policies.WrappingFactory, peers []net.IP) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			var open []*policies.ProtocolWrapper
			for i := range 200 {
				tr := transporttest.New()
				tr.SetRemoteAddr(&net.TCPAddr{IP: peers[(g+i)%len(peers)], Port: 1000 + i})
				if p := wf.BuildProtocol(tr.RemoteAddr()); p != nil {
					protocol.MakeConnection(p, tr)
					open = append(open, p.(*policies.ProtocolWrapper))
				}
				if len(open) > 2 || (i%3 == 0 && len(open) > 0) {
					open[0].ConnectionLost(transport.ErrConnectionDone)
					open = open[1:]
				}
			}
			for _, w := range open {
				w.ConnectionLost(transport.ErrConnectionDone)
			}
		})
	}
	wg.Wait()
}

func TestLimitTotalConnectionsConcurrent(t *testing.T) {
	c := &liveCounter{live: map[string]int{}, maxSeen: map[string]int{}}
	const limit = 8
	wf := policies.LimitTotalConnections(c, limit, nil)
	hammer(t, wf, []net.IP{net.IPv4(192, 0, 2, 1)})
	if got := c.maxSeen["192.0.2.1"]; got > limit || got == 0 {
		t.Errorf("at most %d connections open at once, want 1..%d", got, limit)
	}
	if got := wf.Open(); got != 0 {
		t.Errorf("Open() = %d after every connection was lost, want 0", got)
	}
	// Every place was given back.
	for i := range limit {
		if wf.BuildProtocol(nil) == nil {
			t.Fatalf("connection %d refused after all were lost", i)
		}
	}
	if wf.BuildProtocol(nil) != nil {
		t.Error("connection admitted over the limit")
	}
}

// strAddr is a net.Addr of an unknown type, known only by its string.
type strAddr string

func (a strAddr) Network() string { return "test" }
func (a strAddr) String() string  { return string(a) }

func tcp(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }

func TestLimitConnectionsByPeerKeys(t *testing.T) {
	v6ll := func(zone string) net.Addr { return &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: zone} }
	tests := []struct {
		name string
		a, b net.Addr
		same bool
	}{
		{"IPv4 other port", tcp("192.0.2.1", 1), tcp("192.0.2.1", 2), true},
		{"IPv4 other IP", tcp("192.0.2.1", 1), tcp("192.0.2.2", 1), false},
		{"IPv4 4-byte and 16-byte", &net.TCPAddr{IP: net.IP{192, 0, 2, 1}}, tcp("192.0.2.1", 5), true},
		{"IPv6 other port", tcp("2001:db8::1", 1), tcp("2001:db8::1", 2), true},
		{"IPv6 other IP", tcp("2001:db8::1", 1), tcp("2001:db8::2", 1), false},
		{"IPv4-mapped IPv6", tcp("::ffff:192.0.2.1", 1), tcp("192.0.2.1", 2), true},
		{"IPv4-mapped in a string", strAddr("[::ffff:192.0.2.1]:80"), tcp("192.0.2.1", 2), true},
		{"IPv4-mapped string and 4-byte IPv4", strAddr("[::ffff:192.0.2.1]:80"), &net.TCPAddr{IP: net.IP{192, 0, 2, 1}}, true},
		{"IPv4 string", strAddr("192.0.2.1:80"), tcp("192.0.2.1", 2), true},
		{"IPv6 string", strAddr("[2001:db8::1]:80"), tcp("2001:db8::1", 2), true},
		{"bare IP string", strAddr("2001:db8::1"), tcp("2001:db8::1", 2), true},
		{"IPv4 not its IPv6 neighbour", tcp("192.0.2.1", 1), tcp("2001:db8::c000:201", 1), false},
		{"UDP and TCP", &net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 9}, tcp("192.0.2.1", 2), true},
		{"IPAddr", &net.IPAddr{IP: net.ParseIP("2001:db8::1")}, tcp("2001:db8::1", 2), true},
		{"same zone", v6ll("eth0"), v6ll("eth0"), true},
		{"other zone", v6ll("eth0"), v6ll("eth1"), false},
		{"zone in a string", strAddr("[fe80::1%eth0]:4"), v6ll("eth0"), true},
		{"unix same", &net.UnixAddr{Name: "/run/s", Net: "unix"}, &net.UnixAddr{Name: "/run/s", Net: "unix"}, true},
		{"unix other", &net.UnixAddr{Name: "/run/s", Net: "unix"}, &net.UnixAddr{Name: "/run/t", Net: "unix"}, false},
		{"nil", nil, nil, true},
		{"nil TCPAddr", (*net.TCPAddr)(nil), (*net.TCPAddr)(nil), true},
		{"nil and IPv4", nil, tcp("192.0.2.1", 2), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := policies.LimitConnectionsByPeer(&testFactory{}, 1)
			pa := wf.BuildProtocol(tt.a)
			if pa == nil {
				t.Fatalf("first connection from %v refused", tt.a)
			}
			protocol.MakeConnection(pa, transporttest.New())
			pb := wf.BuildProtocol(tt.b)
			if got := pb == nil; got != tt.same {
				t.Errorf("second connection from %v refused: %v, want %v (first from %v)", tt.b, got, tt.same, tt.a)
			}
			if pb != nil {
				protocol.MakeConnection(pb, transporttest.New())
				pb.ConnectionLost(transport.ErrConnectionDone)
			}
			pa.ConnectionLost(transport.ErrConnectionDone)
			if n := policies.PeerEntries(wf); n != 0 {
				t.Errorf("%d peer entries left after every connection was lost, want 0", n)
			}
		})
	}
}

func TestLimitConnectionsByPeerCounts(t *testing.T) {
	wf := policies.LimitConnectionsByPeer(&testFactory{}, 2)
	peer := tcp("2001:db8::5", 1)
	var open []protocol.Protocol
	for i := range 3 {
		p := wf.BuildProtocol(peer)
		if got, want := p != nil, i < 2; got != want {
			t.Fatalf("connection %d admitted: %v, want %v", i, got, want)
		}
		if p != nil {
			protocol.MakeConnection(p, transporttest.New())
			open = append(open, p)
		}
	}
	if p := wf.BuildProtocol(tcp("2001:db8::6", 1)); p == nil {
		t.Error("another peer refused")
	} else {
		protocol.MakeConnection(p, transporttest.New())
		p.ConnectionLost(transport.ErrConnectionDone)
	}
	open[0].ConnectionLost(transport.ErrConnectionDone)
	if n := policies.PeerEntries(wf); n != 1 {
		t.Errorf("%d peer entries, want 1", n)
	}
	if p := wf.BuildProtocol(peer); p == nil {
		t.Error("peer refused after one of its connections was lost")
	}

	f := &testFactory{refuse: true}
	wf = policies.LimitConnectionsByPeer(f, 1)
	for range 2 {
		if wf.BuildProtocol(peer) != nil {
			t.Fatal("refused connection admitted")
		}
	}
	if n := policies.PeerEntries(wf); n != 0 {
		t.Errorf("%d peer entries after the wrapped factory refused, want 0", n)
	}

	if wf := policies.LimitConnectionsByPeer(&testFactory{}, 0); wf.BuildProtocol(peer) == nil || wf.BuildProtocol(peer) == nil {
		t.Error("maxPerPeer 0 refused a connection; want no limit")
	}
}

func TestLimitConnectionsByPeerConcurrent(t *testing.T) {
	c := &liveCounter{live: map[string]int{}, maxSeen: map[string]int{}}
	const perPeer = 3
	peers := []net.IP{
		net.ParseIP("192.0.2.1"), net.ParseIP("::ffff:192.0.2.1"),
		net.ParseIP("2001:db8::1"), net.ParseIP("198.51.100.7"),
	}
	wf := policies.LimitConnectionsByPeer(c, perPeer)
	hammer(t, wf, peers)
	// 192.0.2.1 and ::ffff:192.0.2.1 are one peer: the two keys of the
	// counter (by net.IP.String, which prints both alike) add up.
	for _, key := range []string{"192.0.2.1", "2001:db8::1", "198.51.100.7"} {
		if got := c.maxSeen[key]; got > perPeer || got == 0 {
			t.Errorf("peer %s had at most %d connections open at once, want 1..%d", key, got, perPeer)
		}
	}
	if n := policies.PeerEntries(wf); n != 0 {
		t.Errorf("%d peer entries left after every connection was lost, want 0", n)
	}
	if c.admitted.Load() == 0 {
		t.Error("no connection admitted")
	}
}

// FuzzLimitConnectionsByPeer checks, for any address string, that a second
// connection from the same address is refused, that one from the same
// IP:port as a *net.TCPAddr is refused too, and that nothing is left once
// the connection is lost.
func FuzzLimitConnectionsByPeer(f *testing.F) {
	for _, s := range []string{
		"192.0.2.1:80", "[::ffff:192.0.2.1]:1", "[2001:db8::1]:443", "[fe80::1%eth0]:4",
		"2001:db8::1", "192.0.2.1", "", "/run/s", "[::1", ":::", "@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wf := policies.LimitConnectionsByPeer(&testFactory{}, 1)
		p := wf.BuildProtocol(strAddr(s))
		if p == nil {
			t.Fatalf("first connection from %q refused", s)
		}
		protocol.MakeConnection(p, transporttest.New())
		if wf.BuildProtocol(strAddr(s)) != nil {
			t.Fatalf("second connection from %q admitted", s)
		}
		if ap, err := netip.ParseAddrPort(s); err == nil {
			if wf.BuildProtocol(net.TCPAddrFromAddrPort(ap)) != nil {
				t.Fatalf("connection from TCP address %v admitted after one from %q", ap, s)
			}
		}
		p.ConnectionLost(transport.ErrConnectionDone)
		if n := policies.PeerEntries(wf); n != 0 {
			t.Fatalf("%d peer entries left after the connection from %q was lost", n, s)
		}
	})
}

func ExampleLimitTotalConnections() {
	f := factory.ForProtocol(func() protocol.Protocol { return &echo{} })
	limited := policies.LimitTotalConnections(f, 1, newBusy)

	first, second := transporttest.New(), transporttest.New()
	protocol.MakeConnection(limited.BuildProtocol(first.RemoteAddr()), first)
	protocol.MakeConnection(limited.BuildProtocol(second.RemoteAddr()), second)
	fmt.Printf("second got %q, connected: %v\n", second.Value(), second.Connected())
	// Output:
	// second got "busy\r\n", connected: false
}
