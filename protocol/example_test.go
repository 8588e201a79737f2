package protocol_test

import (
	"fmt"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// Echo writes back what it receives.
type Echo struct{ protocol.Base }

func (e *Echo) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

func ExampleMakeConnection() {
	tr := transporttest.New()
	e := &Echo{}
	protocol.MakeConnection(e, tr)
	e.DataReceived([]byte("ping"))
	fmt.Printf("%q from %v\n", tr.Value(), e.Transport().RemoteAddr())
	// Output:
	// "ping" from 192.0.2.1:12345
}
