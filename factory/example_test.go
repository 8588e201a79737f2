package factory_test

import (
	"fmt"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

type upper struct{ protocol.Base }

func (u *upper) DataReceived(data []byte) {
	out := make([]byte, len(data))
	for i, c := range data {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	_, _ = u.Transport().Write(out)
}

func ExampleForProtocol() {
	f := factory.ForProtocol(func() protocol.Protocol { return &upper{} })

	// What the reactor does for each accepted connection.
	tr := transporttest.New()
	p := f.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(p, tr)

	p.DataReceived([]byte("hello, whirl"))
	fmt.Printf("%s\n", tr.Value())
	// Output:
	// HELLO, WHIRL
}
