package haproxy_test

import (
	"net"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// BenchmarkAccept measures one connection's header, from the wrapper's
// BuildProtocol to the wrapped protocol's first DataReceived (the header
// timer, which ConnectionMade starts, left out).
func BenchmarkAccept(b *testing.B) {
	headers := map[string][]byte{
		"v1": []byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n"),
		"v2": v2(b, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 56324), tcp("203.0.113.9", 443),
			proxyproto.TLV{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("chat.example.com")}),
	}
	for _, name := range []string{"v1", "v2"} {
		in := append(headers[name], "hello\r\n"...)
		b.Run(name, func(b *testing.B) {
			d := &discard{}
			f := haproxy.Wrap(factoryFunc(func(net.Addr) protocol.Protocol { return d }))
			tr := transporttest.New()
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				w := f.BuildProtocol(tr.RemoteAddr())
				protocol.Wire(w, tr)
				w.DataReceived(in)
			}
		})
	}
}

// discard counts what it receives and keeps nothing.
type discard struct {
	protocol.Base
	n int
}

func (d *discard) DataReceived(data []byte) { d.n += len(data) }
