package websocket_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/websocket/websocket"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

const handshake = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// clientFrame is a masked frame as a client sends it.
func clientFrame(op byte, fin bool, payload string) []byte {
	b := []byte{op}
	if fin {
		b[0] |= 0x80
	}
	b = appendLen(b, len(payload), 0x80)
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, mask[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

// serverFrame is an unmasked final frame as the server sends it.
func serverFrame(op byte, payload string) string {
	return string(appendLen([]byte{op | 0x80}, len(payload), 0)) + payload
}

func appendLen(b []byte, n int, maskBit byte) []byte {
	switch {
	case n < 126:
		return append(b, maskBit|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, maskBit|126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(b, maskBit|127), uint64(n))
}

func closeBody(code uint16, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, code)) + reason
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// run feeds the handshake and input in pieces of size bytes and returns what
// was written after the handshake's answer.
func run(t *testing.T, f *websocket.Factory, input []byte, size int) (string, *transporttest.Transport) {
	t.Helper()
	p := f.BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	for _, piece := range transporttest.Chunks(append([]byte(handshake), input...), size) {
		if tr.Disconnecting() {
			break
		}
		p.DataReceived(piece)
	}
	out := string(tr.Value())
	head, rest, ok := strings.Cut(out, "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 101 ") || !strings.Contains(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
		t.Fatalf("handshake answered %q", out)
	}
	return rest, tr
}

func TestFrames(t *testing.T) {
	big := strings.Repeat("x", 70000)
	cases := []struct {
		name    string
		input   []byte
		want    string
		closed  bool
		wantErr error
	}{
		{name: "text", input: clientFrame(1, true, "hello"), want: serverFrame(1, "hello")},
		{name: "binary empty and 300 B", input: join(clientFrame(2, true, ""), clientFrame(2, true, strings.Repeat("b", 300))),
			want: serverFrame(2, "") + serverFrame(2, strings.Repeat("b", 300))},
		{name: "64-bit length", input: clientFrame(2, true, big), want: serverFrame(2, big)},
		{name: "fragments with a ping between", input: join(clientFrame(1, false, "hel"), clientFrame(9, true, "p"), clientFrame(0, false, "lo "), clientFrame(0, true, "wörld")),
			want: serverFrame(10, "p") + serverFrame(1, "hello wörld")},
		{name: "pong ignored", input: join(clientFrame(10, true, "x"), clientFrame(1, true, "a")), want: serverFrame(1, "a")},
		{name: "close echoed", input: join(clientFrame(8, true, closeBody(1000, "bye")), clientFrame(1, true, "late")),
			want: serverFrame(8, closeBody(1000, "")), closed: true},
		{name: "empty close", input: clientFrame(8, true, ""), want: serverFrame(8, ""), closed: true},
		{name: "unmasked", input: []byte(serverFrame(1, "hi")), want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "reserved bits", input: func() []byte { f := clientFrame(1, true, "hi"); f[0] |= 0x40; return f }(),
			want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "reserved opcode", input: clientFrame(3, true, "hi"), want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "fragmented ping", input: clientFrame(9, false, "hi"), want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "lone continuation", input: clientFrame(0, true, "hi"), want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "message inside a message", input: join(clientFrame(1, false, "a"), clientFrame(1, true, "b")),
			want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "bad UTF-8", input: join(clientFrame(1, true, "ok"), clientFrame(1, true, "\xff")),
			want: serverFrame(1, "ok") + serverFrame(8, closeBody(1007, "")), closed: true, wantErr: websocket.ErrInvalidUTF8},
		{name: "bad close code", input: clientFrame(8, true, closeBody(999, "")), want: serverFrame(8, closeBody(1002, "")), closed: true, wantErr: websocket.ErrProtocol},
		{name: "too big", input: clientFrame(2, true, strings.Repeat("z", 2000)), want: serverFrame(8, closeBody(1009, "")), closed: true, wantErr: websocket.ErrTooBig},
		{name: "too big in fragments", input: join(clientFrame(2, false, strings.Repeat("z", 600)), clientFrame(0, true, strings.Repeat("z", 600))),
			want: serverFrame(8, closeBody(1009, "")), closed: true, wantErr: websocket.ErrTooBig},
	}
	for _, c := range cases {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", c.name, size), func(t *testing.T) {
				f := &websocket.Factory{}
				if strings.HasPrefix(c.name, "too big") {
					f.MaxMessageBytes = 1024
				}
				got, tr := run(t, f, c.input, size)
				if got != c.want {
					t.Fatalf("answered %q, want %q", clip(got), clip(c.want))
				}
				if tr.Disconnecting() != c.closed {
					t.Fatalf("disconnecting %v, want %v", tr.Disconnecting(), c.closed)
				}
				if err := tr.CloseError(); !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
					t.Fatalf("closed with %v, want %v", err, c.wantErr)
				}
			})
		}
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func TestBadHandshake(t *testing.T) {
	for _, in := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", // no Upgrade
		"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
	} {
		p := (&websocket.Factory{}).BuildProtocol(nil)
		tr := transporttest.New()
		protocol.MakeConnection(p, tr)
		p.DataReceived([]byte(in))
		if !strings.HasPrefix(string(tr.Value()), "HTTP/1.1 4") || !errors.Is(tr.CloseError(), websocket.ErrHandshake) {
			t.Fatalf("answered %q, closed with %v", clip(string(tr.Value())), tr.CloseError())
		}
	}
}
