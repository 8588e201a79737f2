//go:build !race

package haproxy_test

import (
	"net"
	"testing"

	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/protocol"
)

// TestPassThroughAllocs: once the header is accepted, DataReceived through
// the wrapper allocates nothing.
func TestPassThroughAllocs(t *testing.T) {
	d := &discard{}
	c := open(t, haproxy.Wrap(factoryFunc(func(net.Addr) protocol.Protocol { return d })))
	c.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n"), 0)
	chunk := make([]byte, 4096)
	if n := testing.AllocsPerRun(1000, func() { c.w.DataReceived(chunk) }); n != 0 {
		t.Errorf("DataReceived after the header: %v allocations, want 0", n)
	}
	if d.n != 1001*len(chunk) {
		t.Errorf("delivered %d bytes", d.n)
	}
}
