package httpplain_test

import (
	"bytes"
	"testing"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// FuzzServer feeds any input, whole and cut at a point the fuzzer picks,
// and checks that the server never panics, answers the same either way, and
// never writes more answers than the input had line feeds.
func FuzzServer(f *testing.F) {
	f.Add([]byte(get+get), 10)
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"+get), 40)
	f.Add([]byte("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 5)
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 3)
	f.Fuzz(func(t *testing.T, input []byte, cut int) {
		whole := feedTwo(input, len(input))
		if cut < 0 {
			cut = -cut
		}
		cut %= len(input) + 1
		split := feedTwo(input, cut)
		if !bytes.Equal(dateRE.ReplaceAll(whole, nil), dateRE.ReplaceAll(split, nil)) {
			t.Fatalf("whole input answered %q, cut at %d %q", whole, cut, split)
		}
		if n := bytes.Count(whole, []byte("HTTP/1.1 ")); n > bytes.Count(input, []byte("\n"))+1 {
			t.Fatalf("%d answers to %d lines", n, bytes.Count(input, []byte("\n")))
		}
	})
}

// feedTwo feeds input in two reads cut at cut and returns what was written.
func feedTwo(input []byte, cut int) []byte {
	p := (&httpplain.Factory{MaxHeaderBytes: 256, MaxBodyBytes: 64}).BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	for _, piece := range [][]byte{input[:cut], input[cut:]} {
		if tr.Disconnecting() {
			break
		}
		p.DataReceived(append([]byte(nil), piece...))
	}
	return tr.Value()
}
