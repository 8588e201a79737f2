package httpplain_test

import (
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// BenchmarkPipelined measures the parser and the answers in user space: one
// read of 16 pipelined requests, as wrk's plaintext load sends them (wrk's
// request, with only Host; and TechEmpower's, with its browser-like
// headers). ns/op is per request. bench/servers has the same benchmark for
// gnet-http's codec (BenchmarkGnetHTTPCodec).
func BenchmarkPipelined(b *testing.B) {
	for _, c := range []struct{ name, req string }{
		{"wrk", "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
		{"techempower", techEmpowerRequest},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := (&httpplain.Factory{}).BuildProtocol(nil).(*httpplain.Server)
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			in := []byte(strings.Repeat(c.req, 16))
			b.ReportAllocs()
			b.SetBytes(int64(len(c.req)))
			for i := 0; b.Loop(); i++ {
				if i%16 == 0 {
					p.DataReceived(in)
					tr.Clear()
				}
			}
			if p.Requests() == 0 || tr.Disconnecting() {
				b.Fatalf("answered %d, disconnecting %v", p.Requests(), tr.Disconnecting())
			}
		})
	}
}

// techEmpowerRequest is the request of TechEmpower's plaintext test.
const techEmpowerRequest = "GET /plaintext HTTP/1.1\r\n" +
	"Host: server\r\n" +
	"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
	"Connection: keep-alive\r\n\r\n"
