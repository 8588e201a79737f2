package websocket_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"github.com/gobwas/ws"

	"github.com/whirl-go/whirl/examples/websocket/websocket"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// A Server over the in-memory transport of package transporttest: the
// opening handshake (with RFC 6455's sample key), one masked text frame as
// a client sends it, then a close, which the server answers with a close
// of the same status before it closes the connection. The example plays the reactor's part: it
// calls DataReceived and reads what was written with Value; the client's
// side is github.com/gobwas/ws, which builds the frames and decodes the
// answers.
func Example() {
	p := (&websocket.Factory{}).BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr) // the reactor's part: ConnectionMade

	p.DataReceived([]byte("GET /echo HTTP/1.1\r\nHost: example.com\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	head, _, _ := strings.Cut(string(tr.Value()), "\r\n\r\n")
	for line := range strings.SplitSeq(head, "\r\n") {
		fmt.Println(line)
	}
	tr.Clear()

	// send writes a frame as a client does (masked) and decodes the
	// answers written to it.
	send := func(f ws.Frame) {
		var out bytes.Buffer
		if err := ws.WriteFrame(&out, ws.MaskFrameInPlace(f)); err != nil {
			log.Fatal(err)
		}
		p.DataReceived(out.Bytes())
		in := bytes.NewReader(tr.Value())
		tr.Clear()
		for in.Len() > 0 {
			answer, err := ws.ReadFrame(in)
			if err != nil {
				log.Fatal(err)
			}
			if answer.Header.OpCode == ws.OpClose {
				code, reason := ws.ParseCloseFrameData(answer.Payload)
				fmt.Printf("close %d %q\n", code, reason)
				continue
			}
			h := answer.Header
			fmt.Printf("echo %q (text %v, final %v, masked %v)\n", answer.Payload, h.OpCode == ws.OpText, h.Fin, h.Masked)
		}
	}
	send(ws.NewTextFrame([]byte("hello, whirl")))
	send(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))
	fmt.Println("messages:", p.(*websocket.Server).Messages(), "closing:", tr.Disconnecting())
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// echo "hello, whirl" (text true, final true, masked false)
	// close 1000 ""
	// messages: 1 closing: true
}
