//go:build !race

package simpleproto_test

import (
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestAllocsPerPacket checks that echoing packets allocates nothing once the
// connection is warmed up: a batch of 100 1 KiB packets in one read (gnet's
// client's default load), in 1000-byte reads (packets cut across reads), and
// small packets. Race builds allocate in the detector; CI runs it without.
func TestAllocsPerPacket(t *testing.T) {
	cases := []struct {
		name  string
		size  int
		chunk int
	}{
		{"100 x 1KiB, one read", 1024, 0},
		{"100 x 1KiB, 1000-byte reads", 1024, 1000},
		{"100 x 16B, 7-byte reads", 16, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var batch []byte
			for range 100 {
				batch = simpleproto.AppendPacket(batch, []byte(strings.Repeat("p", c.size)))
			}
			p := (&simpleproto.Factory{}).BuildProtocol(nil).(*simpleproto.Server)
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			chunks := transporttest.Chunks(batch, c.chunk)
			feed := func() {
				for _, piece := range chunks {
					p.DataReceived(piece)
				}
				tr.Clear()
			}
			feed()
			before := p.Packets()
			if allocs := testing.AllocsPerRun(100, feed); allocs != 0 {
				t.Fatalf("%.2f allocations per batch of 100 packets, want 0", allocs)
			}
			if p.Packets()-before != 100*101 {
				t.Fatalf("echoed %d packets", p.Packets()-before)
			}
		})
	}
}
