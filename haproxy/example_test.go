package haproxy_test

import (
	"fmt"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// greeter greets the client by its address, from its first callback on.
type greeter struct{ protocol.Base }

func (g *greeter) ConnectionMade() {
	fmt.Println("client", g.Transport().RemoteAddr(), "connected to", g.Transport().LocalAddr())
}

func (g *greeter) DataReceived(data []byte) { fmt.Printf("got %q\n", data) }

// Example serves a protocol behind HAProxy's send-proxy. The header comes in
// two segments; the protocol sees none of it, only the client's address and
// the bytes after it. With a reactor: r.Listen("haproxy:tcp:8080", f).
func Example() {
	f := haproxy.Wrap(factory.ForProtocol(func() protocol.Protocol { return &greeter{} }))

	tr := transporttest.New() // the connection from HAProxy
	w := f.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(w, tr)
	w.DataReceived([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 5"))
	w.DataReceived([]byte("6324 443\r\nHELLO\r\n"))
	fmt.Println("real peer:", tr.RemoteAddr())
	// Output:
	// client 198.51.100.7:56324 connected to 203.0.113.9:443
	// got "HELLO\r\n"
	// real peer: 192.0.2.1:12345
}
