package reactor_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// addrRecorder reports its transport's addresses, read in ConnectionMade and
// again in ConnectionLost (they must stay valid after the close).
type addrRecorder struct {
	protocol.Base
	made, lost chan [2]net.Addr
}

func (a *addrRecorder) ConnectionMade() {
	t := a.Transport()
	a.made <- [2]net.Addr{t.LocalAddr(), t.RemoteAddr()}
}

func (a *addrRecorder) ConnectionLost(error) {
	t := a.Transport()
	a.lost <- [2]net.Addr{t.LocalAddr(), t.RemoteAddr()}
}

// TestListenAddresses listens on a wildcard address (both IP versions), on
// IPv4 loopback and, where the machine has it, on IPv6 loopback: each accepts
// a client, and the transport's addresses are the connection's own (the
// local one too, on the wildcard port), before and after the close.
func TestListenAddresses(t *testing.T) {
	for _, tt := range []struct{ listen, dial string }{
		{":0", "127.0.0.1"},
		{"127.0.0.1:0", "127.0.0.1"},
		{"[::1]:0", "::1"},
	} {
		t.Run(tt.listen, func(t *testing.T) {
			made, lost := make(chan [2]net.Addr, 1), make(chan [2]net.Addr, 1)
			r := reactor.New(reactor.WithLoops(2))
			p, err := r.ListenTCP(tt.listen, factory.ForProtocol(func() protocol.Protocol {
				return &addrRecorder{made: made, lost: lost}
			}))
			if err != nil {
				if strings.Contains(tt.listen, "::1") {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			running(t, r)
			port := p.Addr().(*net.TCPAddr).Port
			c, err := net.DialTimeout("tcp", net.JoinHostPort(tt.dial, strconv.Itoa(port)), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var got [2]net.Addr
			select {
			case got = <-made:
			case <-time.After(5 * time.Second):
				t.Fatal("ConnectionMade not called")
			}
			check := func(when string, got [2]net.Addr) {
				t.Helper()
				if got[0].String() != c.RemoteAddr().String() || got[1].String() != c.LocalAddr().String() {
					t.Errorf("%s: local %v, remote %v; want %v, %v", when, got[0], got[1], c.RemoteAddr(), c.LocalAddr())
				}
			}
			check("ConnectionMade", got)
			c.Close()
			select {
			case got = <-lost:
			case <-time.After(5 * time.Second):
				t.Fatal("ConnectionLost not called")
			}
			check("ConnectionLost", got)
		})
	}
}
