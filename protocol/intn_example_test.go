package protocol_test

import (
	"bytes"
	"fmt"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// Shout answers each int16-prefixed string with the same string in capitals.
type Shout struct {
	protocol.Int16StringReceiver
}

func (s *Shout) StringReceived(msg []byte) {
	_ = s.SendString(bytes.ToUpper(msg))
}

func ExampleInt16StringReceiver() {
	tr := transporttest.New()
	p := &Shout{}
	protocol.MakeConnection(p, tr)

	// Two strings, fed one byte at a time as a slow network would.
	for _, piece := range transporttest.Chunks([]byte("\x00\x05hello\x00\x02go"), 1) {
		p.DataReceived(piece)
	}
	fmt.Printf("%q\n", tr.Value())
	// Output:
	// "\x00\x05HELLO\x00\x02GO"
}

// Guarded is an Int32 protocol that answers an oversize announcement before
// hanging up.
type Guarded struct {
	protocol.Int32StringReceiver
}

func (g *Guarded) StringReceived(msg []byte) {}

func (g *Guarded) LengthLimitExceeded(n int) {
	_ = g.SendString(fmt.Appendf(nil, "refused: %d bytes", n))
	g.Int32StringReceiver.LengthLimitExceeded(n) // the default: CloseWithError(g.Err())
}

func ExampleInt32StringReceiver_LengthLimitExceeded() {
	tr := transporttest.New()
	p := &Guarded{}
	p.MaxLength = 1024
	protocol.MakeConnection(p, tr)

	// Only the prefix has arrived: the limit is enforced before any payload.
	p.DataReceived([]byte("\x00\x10\x00\x00"))
	fmt.Printf("%q\nconnected: %v\nerr: %v\nclosed with it: %v\n", tr.Value(), tr.Connected(), p.Err(), tr.CloseError() == p.Err())
	// Output:
	// "\x00\x00\x00\x16refused: 1048576 bytes"
	// connected: false
	// err: protocol: string length over MaxLength: Int32StringReceiver prefix announces 1048576 bytes, MaxLength is 1024
	// closed with it: true
}
