package protocol_test

import (
	"fmt"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// Reverse answers each netstring with its bytes in reverse order.
type Reverse struct {
	protocol.NetstringReceiver
}

func (r *Reverse) StringReceived(s []byte) {
	out := make([]byte, len(s))
	for i, b := range s {
		out[len(s)-1-i] = b
	}
	_ = r.SendString(out)
}

func ExampleNetstringReceiver() {
	tr := transporttest.New()
	p := &Reverse{}
	protocol.MakeConnection(p, tr)

	p.DataReceived([]byte("5:hello,0:,3:ab"))
	p.DataReceived([]byte("c,"))
	fmt.Printf("%q\n", tr.Value())
	// Output:
	// "5:olleh,0:,3:cba,"
}

// Strict logs what was wrong with a peer's netstring before hanging up.
type Strict struct {
	protocol.NetstringReceiver
}

func (s *Strict) StringReceived(b []byte) { fmt.Printf("got %q\n", b) }

func (s *Strict) NetstringParseFailed(err error) {
	fmt.Println("closing:", err)
	s.NetstringReceiver.NetstringParseFailed(err) // the default: CloseWithError(err)
}

func ExampleNetstringReceiver_NetstringParseFailed() {
	tr := transporttest.New()
	p := &Strict{}
	protocol.MakeConnection(p, tr)

	p.DataReceived([]byte("2:ok,05:hello,"))
	fmt.Println("connected:", tr.Connected())
	// Output:
	// got "ok"
	// closing: protocol: invalid netstring: leading zero in the length
	// connected: false
}
