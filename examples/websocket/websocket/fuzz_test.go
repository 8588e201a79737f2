package websocket_test

import (
	"bytes"
	"testing"

	"github.com/whirl-go/whirl/examples/websocket/websocket"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// FuzzFrames feeds any bytes after a valid handshake, whole and cut at a
// point the fuzzer picks, and checks that the server never panics, answers
// the same either way, and never holds more than a message's limit.
func FuzzFrames(f *testing.F) {
	f.Add(join(clientFrame(1, true, "hello"), clientFrame(2, false, "a"), clientFrame(0, true, "b")), 3)
	f.Add(join(clientFrame(9, true, "p"), clientFrame(8, true, closeBody(1000, "x"))), 7)
	f.Add(clientFrame(2, true, string(make([]byte, 300))), 100)
	f.Fuzz(func(t *testing.T, input []byte, cut int) {
		whole := feedFrames(input, len(input))
		if cut < 0 {
			cut = -cut
		}
		cut %= len(input) + 1
		if split := feedFrames(input, cut); !bytes.Equal(whole, split) {
			t.Fatalf("whole input answered %q, cut at %d %q", whole, cut, split)
		}
	})
}

func feedFrames(input []byte, cut int) []byte {
	p := (&websocket.Factory{MaxMessageBytes: 512}).BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte(handshake))
	for _, piece := range [][]byte{input[:cut], input[cut:]} {
		if tr.Disconnecting() {
			break
		}
		p.DataReceived(append([]byte(nil), piece...))
	}
	return tr.Value()
}
