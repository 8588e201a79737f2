package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// Errors a connection is closed with, wrapped with what was wrong.
var (
	// ErrHandshake means the opening handshake was refused (gobwas/ws has
	// answered it with an HTTP error) or was longer than MaxHandshakeBytes.
	ErrHandshake = errors.New("websocket: bad handshake")
	// ErrProtocol means a frame broke RFC 6455: close status 1002.
	ErrProtocol = errors.New("websocket: protocol error")
	// ErrInvalidUTF8 means a text message was not UTF-8: close status 1007.
	ErrInvalidUTF8 = errors.New("websocket: text message is not UTF-8")
	// ErrTooBig means a message was over MaxMessageBytes: close status 1009.
	ErrTooBig = errors.New("websocket: message too big")
	// ErrLimits means a Factory's limit is negative.
	ErrLimits = errors.New("websocket: negative limit")
)

// Defaults of the Factory's limits.
const (
	// DefaultMaxMessageBytes bounds a message (all its fragments): 1 MiB.
	DefaultMaxMessageBytes = 1 << 20
	// DefaultMaxHandshakeBytes bounds the opening handshake: 8 KiB.
	DefaultMaxHandshakeBytes = 8 << 10
)

// Factory makes a [Server] per connection. Set its fields before it is
// listened on; the zero value uses the defaults.
type Factory struct {
	factory.Base
	// MaxMessageBytes bounds a message; 0 means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// MaxHandshakeBytes bounds the handshake; 0 means
	// DefaultMaxHandshakeBytes.
	MaxHandshakeBytes int
}

// BuildProtocol returns a new Server. Any goroutine.
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	s := &Server{maxMsg: DefaultMaxMessageBytes, maxHS: DefaultMaxHandshakeBytes}
	if f.MaxMessageBytes > 0 {
		s.maxMsg = f.MaxMessageBytes
	}
	if f.MaxHandshakeBytes > 0 {
		s.maxHS = f.MaxHandshakeBytes
	}
	return s
}

// RegisterFlags defines --max-message-bytes on fs. Any goroutine, before
// the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxMessageBytes, "max-message-bytes", DefaultMaxMessageBytes, "largest message in `bytes` (all fragments); larger ones close with status 1009")
}

// Check reports a negative limit (wrapping [ErrLimits]). Any goroutine.
func (f *Factory) Check() error {
	if f.MaxMessageBytes < 0 || f.MaxHandshakeBytes < 0 {
		return fmt.Errorf("%w: --max-message-bytes %d", ErrLimits, f.MaxMessageBytes)
	}
	return nil
}

// Server is one WebSocket connection. Its methods run on the connection's
// loop.
type Server struct {
	protocol.Base
	maxMsg, maxHS int

	upgraded bool
	pending  []byte    // an unfinished handshake or frame
	msg      []byte    // the fragments of a message so far
	msgOp    ws.OpCode // the message's opcode while fragments arrive
	out      []byte    // what this read answers
	done     bool
	messages int64

	hr   sliceReader
	hbuf [ws.MaxHeaderSize]byte
}

// sliceReader reads from a byte slice; a field of Server, so that reading a
// header through io.Reader allocates nothing.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// appender is an io.Writer appending to a Server's out.
type appender struct{ s *Server }

func (a appender) Write(p []byte) (int, error) {
	a.s.out = append(a.s.out, p...)
	return len(p), nil
}

// Messages returns the number of messages echoed. Loop goroutine (or any
// goroutine once the connection is lost).
func (s *Server) Messages() int64 { return s.messages }

// ConnectionMade registers the transport as the producer of its own output,
// so that a client that sends without reading is pushed back by TCP. Loop
// goroutine.
func (s *Server) ConnectionMade() {
	_ = s.Transport().RegisterProducer(s.Transport(), true)
}

// DataReceived handles the handshake, then every whole frame; the answers
// of one read go out in one Write. Loop goroutine.
func (s *Server) DataReceived(data []byte) {
	if s.done {
		return
	}
	s.out = s.out[:0]
	err := s.feed(data)
	if len(s.out) > 0 {
		_, _ = s.Transport().Write(s.out)
	}
	switch {
	case err != nil:
		s.done, s.pending, s.msg = true, nil, nil
		s.Transport().CloseWithError(err)
	case s.done:
		s.pending, s.msg = nil, nil
		s.Transport().LoseConnection()
	}
}

func (s *Server) feed(data []byte) error {
	if !s.upgraded {
		var err error
		if data, err = s.handshake(data); err != nil || !s.upgraded {
			return err
		}
	}
	for len(s.pending) > 0 && len(data) > 0 && !s.done {
		// Complete the frame begun in an earlier read: its first two
		// bytes, then its header, then its payload (its length checked
		// before any of the payload is kept).
		target := ws.MinHeaderSize
		if hl := headerLen(s.pending); hl > 0 {
			target = hl
			if len(s.pending) >= hl {
				if err := s.checkLength(s.pending); err != nil {
					return err
				}
				target = frameLen(s.pending)
			}
		}
		take := min(target-len(s.pending), len(data))
		s.pending = append(s.pending, data[:take]...)
		data = data[take:]
		if err := s.checkLength(s.pending); err != nil {
			return err
		}
		if n := frameLen(s.pending); n >= 0 && len(s.pending) >= n {
			err := s.frame(s.pending)
			s.pending = s.pending[:0]
			if cap(s.pending) > 64<<10 {
				s.pending = nil // a large frame's buffer is not kept
			}
			if err != nil {
				return err
			}
		}
	}
	for len(data) > 0 && !s.done {
		n := frameLen(data)
		if n < 0 || len(data) < n {
			if err := s.checkLength(data); err != nil {
				return err
			}
			s.pending = append(s.pending[:0], data...)
			return nil
		}
		if err := s.frame(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// handshake collects the opening handshake and answers it with gobwas/ws's
// Upgrader; it returns the bytes after it.
func (s *Server) handshake(data []byte) ([]byte, error) {
	from := max(len(s.pending)-3, 0)
	s.pending = append(s.pending, data...)
	end := bytes.Index(s.pending[from:], []byte("\r\n\r\n"))
	if end < 0 {
		if len(s.pending) > s.maxHS {
			s.out = append(s.out, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"...)
			return nil, fmt.Errorf("%w: over %d bytes", ErrHandshake, s.maxHS)
		}
		return nil, nil
	}
	end += from + 4
	if end > s.maxHS {
		s.out = append(s.out, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"...)
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrHandshake, end, s.maxHS)
	}
	s.hr.b = s.pending[:end]
	_, err := ws.Upgrader{}.Upgrade(struct {
		io.Reader
		io.Writer
	}{&s.hr, appender{s}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	s.upgraded = true
	rest := append([]byte(nil), s.pending[end:]...)
	s.pending = s.pending[:0]
	return rest, nil
}

// headerLen returns the length of the frame header starting b, or -1 if b
// is shorter than 2 bytes.
func headerLen(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// frameLen returns the length of the whole frame starting b, or -1 if its
// header is not all there.
func frameLen(b []byte) int {
	hl := headerLen(b)
	if hl < 0 || len(b) < hl {
		return -1
	}
	var n uint64
	switch l := b[1] & 0x7f; l {
	case 126:
		n = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		n = binary.BigEndian.Uint64(b[2:])
	default:
		n = uint64(l)
	}
	if n > 1<<40 {
		return 1 << 41 // over any limit; checkLength refuses it
	}
	return hl + int(n)
}

// checkLength refuses an unfinished frame that announces more than a
// message may hold, before its payload is buffered.
func (s *Server) checkLength(b []byte) error {
	n := frameLen(b)
	if n < 0 {
		return nil
	}
	if n-headerLen(b)+len(s.msg) > s.maxMsg {
		return s.closeWith(ws.StatusMessageTooBig, fmt.Errorf("%w: a frame of %d bytes, over %d", ErrTooBig, n-headerLen(b), s.maxMsg))
	}
	return nil
}

// frame handles one whole frame.
func (s *Server) frame(b []byte) error {
	s.hr.b = b
	h, err := ws.ReadHeaderBuffer(&s.hr, s.hbuf[:2:len(s.hbuf)])
	if err != nil {
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: %v", ErrProtocol, err))
	}
	payload := b[len(b)-int(h.Length):]
	switch {
	case !h.Masked:
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: unmasked client frame", ErrProtocol))
	case h.Rsv != 0:
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: reserved bits %#x with no extension", ErrProtocol, h.Rsv))
	case h.OpCode.IsReserved():
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: reserved opcode %#x", ErrProtocol, h.OpCode))
	case h.OpCode.IsControl() && (!h.Fin || h.Length > ws.MaxControlFramePayloadSize):
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: fragmented or long control frame", ErrProtocol))
	case !h.OpCode.IsControl() && int(h.Length)+len(s.msg) > s.maxMsg:
		return s.closeWith(ws.StatusMessageTooBig, fmt.Errorf("%w: %d bytes, over %d", ErrTooBig, int(h.Length)+len(s.msg), s.maxMsg))
	}
	start := len(s.out)
	switch h.OpCode {
	case ws.OpPing:
		s.writeFrame(ws.OpPong, payload, h.Mask)
	case ws.OpPong:
	case ws.OpClose:
		return s.closeFrame(payload, h.Mask)
	case ws.OpContinuation:
		if s.msgOp == 0 {
			return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: continuation with no message begun", ErrProtocol))
		}
		s.msg = append(s.msg, payload...)
		ws.Cipher(s.msg[len(s.msg)-len(payload):], h.Mask, 0)
		if h.Fin {
			op := s.msgOp
			s.msgOp = 0
			err := s.echo(op, s.msg, start)
			s.msg = s.msg[:0]
			return err
		}
	default: // text or binary
		if s.msgOp != 0 {
			return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: new message inside a fragmented one", ErrProtocol))
		}
		if !h.Fin {
			s.msgOp = h.OpCode
			s.msg = append(s.msg[:0], payload...)
			ws.Cipher(s.msg, h.Mask, 0)
			return nil
		}
		s.writeFrame(h.OpCode, payload, h.Mask)
		return s.echo(h.OpCode, s.out[len(s.out)-len(payload):], start)
	}
	return nil
}

// echo finishes the echo of a message whose payload is p: written already
// at out[start:] when p is there, else written now. It checks a text
// message is UTF-8.
func (s *Server) echo(op ws.OpCode, p []byte, start int) error {
	if op == ws.OpText && !utf8.Valid(p) {
		s.out = s.out[:start]
		return s.closeWith(ws.StatusInvalidFramePayloadData, ErrInvalidUTF8)
	}
	if len(s.out) == start {
		s.writeFrame(op, p, [4]byte{})
	}
	s.messages++
	return nil
}

// writeFrame appends a final, unmasked frame carrying p, unmasked with
// mask on the way.
func (s *Server) writeFrame(op ws.OpCode, p []byte, mask [4]byte) {
	_ = ws.WriteHeaderBuffer(appender{s}, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}, s.hbuf[:])
	s.out = append(s.out, p...)
	ws.Cipher(s.out[len(s.out)-len(p):], mask, 0)
}

// closeFrame answers the peer's close frame with the same status (or a
// 1002 for a malformed one) and closes.
func (s *Server) closeFrame(p []byte, mask [4]byte) error {
	var body [ws.MaxControlFramePayloadSize]byte
	n := copy(body[:], p)
	ws.Cipher(body[:n], mask, 0)
	switch {
	case n == 0:
		s.writeFrame(ws.OpClose, nil, [4]byte{})
	case n == 1:
		return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: one-byte close payload", ErrProtocol))
	default:
		code := ws.StatusCode(binary.BigEndian.Uint16(body[:2]))
		if !utf8.Valid(body[2:n]) {
			return s.closeWith(ws.StatusInvalidFramePayloadData, ErrInvalidUTF8)
		}
		if !validCloseCode(code) {
			return s.closeWith(ws.StatusProtocolError, fmt.Errorf("%w: close status %d", ErrProtocol, code))
		}
		s.writeFrame(ws.OpClose, body[:2], [4]byte{})
	}
	s.done = true
	return nil
}

// closeWith appends a close frame with status and returns err.
func (s *Server) closeWith(status ws.StatusCode, err error) error {
	var body [2]byte
	binary.BigEndian.PutUint16(body[:], uint16(status))
	s.writeFrame(ws.OpClose, body[:], [4]byte{})
	return err
}

// validCloseCode reports whether a peer may send code in a close frame
// (RFC 6455, 7.4): 1000-1003, 1007-1011, or 3000-4999.
func validCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	}
	return code >= 3000 && code <= 4999
}
