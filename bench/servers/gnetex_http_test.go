package servers

import (
	"strings"
	"testing"
)

// BenchmarkGnetHTTPCodec is examples/httpplain's BenchmarkPipelined for
// gnet-http's codec: one read of 16 pipelined requests parsed and answered.
// ns/op is per request.
func BenchmarkGnetHTTPCodec(b *testing.B) {
	for _, c := range []struct{ name, req string }{
		{"wrk", "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
		{"techempower", "GET /plaintext HTTP/1.1\r\n" +
			"Host: server\r\n" +
			"Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
			"Connection: keep-alive\r\n\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var hc httpCodec
			in := []byte(strings.Repeat(c.req, 16))
			b.ReportAllocs()
			b.SetBytes(int64(len(c.req)))
			for i := 0; b.Loop(); i++ {
				if i%16 == 0 {
					if used, ok := hc.answer(in); !ok || used != len(in) {
						b.Fatalf("used %d of %d, ok %v", used, len(in), ok)
					}
				}
			}
		})
	}
}
