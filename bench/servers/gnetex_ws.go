package servers

import (
	"bytes"
	"errors"
	"io"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/panjf2000/gnet/v2"

	"github.com/whirl-go/whirl/examples/websocket/websocket"
)

// The WebSocket echo servers.
const (
	// GnetWebSocket is gnet's WebSocket example: a bytes.Buffer per
	// connection, ws.Upgrade until the handshake is whole, then frame
	// headers read from the buffer, payloads unmasked, messages echoed
	// with wsutil.WriteServerMessage, control frames handled by wsutil.
	GnetWebSocket = "gnet-websocket"
	// WhirlWebSocket is examples/websocket.
	WhirlWebSocket = "whirl-websocket"
)

func whirlWSFactory() reactorFactory { return &websocket.Factory{} }

// gnetWS is gnet's WebSocket example.
type gnetWS struct{ gnetEcho }

// wsCodec is a connection's state, as the example's codec keeps it.
type wsCodec struct {
	upgraded bool
	buf      bytes.Buffer
}

// OnOpen gives the connection its codec. gnet's loop goroutine.
func (s *gnetWS) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(new(wsCodec))
	return nil, gnet.None
}

// OnTraffic buffers what came, upgrades, then echoes every whole message.
// gnet's loop goroutine.
func (s *gnetWS) OnTraffic(c gnet.Conn) gnet.Action {
	w := c.Context().(*wsCodec)
	in, _ := c.Next(-1)
	w.buf.Write(in)
	if !w.upgraded {
		r := bytes.NewReader(w.buf.Bytes())
		_, err := ws.Upgrade(struct {
			io.Reader
			io.Writer
		}{r, c})
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return gnet.None // not all there yet
			}
			return gnet.Close
		}
		w.buf.Next(w.buf.Len() - r.Len())
		w.upgraded = true
	}
	for w.buf.Len() >= ws.MinHeaderSize {
		r := bytes.NewReader(w.buf.Bytes())
		h, err := ws.ReadHeader(r)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return gnet.None
			}
			return gnet.Close
		}
		hl := w.buf.Len() - r.Len()
		if int64(r.Len()) < h.Length {
			return gnet.None
		}
		w.buf.Next(hl)
		payload := make([]byte, h.Length)
		_, _ = w.buf.Read(payload)
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		if h.OpCode.IsControl() {
			if err := wsutil.HandleClientControlMessage(c, wsutil.Message{OpCode: h.OpCode, Payload: payload}); err != nil {
				return gnet.Close
			}
			continue
		}
		if err := wsutil.WriteServerMessage(c, h.OpCode, payload); err != nil {
			return gnet.Close
		}
	}
	return gnet.None
}
