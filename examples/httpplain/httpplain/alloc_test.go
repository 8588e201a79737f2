//go:build !race

package httpplain_test

import (
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestAllocsPerRequest checks that answering requests allocates nothing once
// the connection is warmed up: 16 pipelined requests in one read (wrk's
// plaintext load), requests cut across reads (kept in the pending head),
// and a body skipped across reads. Race builds allocate in the detector, so
// the test runs without -race (CI runs both).
func TestAllocsPerRequest(t *testing.T) {
	post := "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("b", 100)
	cases := []struct {
		name  string
		input string
		chunk int
	}{
		{"16 pipelined, one read", strings.Repeat(get, 16), 0},
		{"16 pipelined, 50-byte reads", strings.Repeat(get, 16), 50},
		{"16 pipelined, 1-byte reads", strings.Repeat(get, 16), 1},
		{"bodies, 30-byte reads", strings.Repeat(post, 8), 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := (&httpplain.Factory{}).BuildProtocol(nil).(*httpplain.Server)
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			chunks := transporttest.Chunks([]byte(c.input), c.chunk)
			feed := func() {
				for _, piece := range chunks {
					p.DataReceived(piece)
				}
				tr.Clear()
			}
			feed() // warm up: grow the buffers
			before := p.Requests()
			allocs := testing.AllocsPerRun(100, feed)
			if allocs != 0 {
				t.Fatalf("%.2f allocations per %d requests, want 0", allocs, strings.Count(c.input, "HTTP/1.1\r\n"))
			}
			if p.Requests() == before || tr.Disconnecting() {
				t.Fatalf("answered %d requests, disconnecting %v", p.Requests()-before, tr.Disconnecting())
			}
		})
	}
}
