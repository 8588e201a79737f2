package simpleproto

import (
	"flag"
	"fmt"
	"net"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// Factory makes a [Server] per connection. Set MaxLength before it is
// listened on.
type Factory struct {
	factory.Base

	// MaxLength bounds a packet's body; 0 means DefaultMaxLength.
	MaxLength int
}

// BuildProtocol returns a new Server. Any goroutine (the reactor calls it on
// the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	s := &Server{}
	s.dec.MaxLength = f.MaxLength
	return s
}

// RegisterFlags defines --max-length on fs. Any goroutine, before the flags
// are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxLength, "max-length", DefaultMaxLength, "largest packet body accepted, in `bytes`; a larger one closes the connection")
}

// Check reports a negative MaxLength (wrapping [ErrConfig]). Any goroutine.
func (f *Factory) Check() error {
	if f.MaxLength < 0 {
		return fmt.Errorf("%w: --max-length %d", ErrConfig, f.MaxLength)
	}
	return nil
}

// Server greets its client and echoes every packet, the echoes of one read
// in one Write. Its methods run on the connection's loop.
type Server struct {
	protocol.Base
	dec     Decoder
	out     []byte
	packets int64
}

// ConnectionMade registers the transport as the producer of its own output
// (a client that sends without reading is pushed back by TCP once the
// unread echoes pass the high watermark) and sends Greeting. Loop
// goroutine.
func (s *Server) ConnectionMade() {
	_ = s.Transport().RegisterProducer(s.Transport(), true)
	_, _ = s.Transport().Write([]byte(Greeting))
}

// DataReceived echoes every whole packet; bad input closes the connection
// with the Decoder's error. Loop goroutine.
func (s *Server) DataReceived(data []byte) {
	s.out = s.out[:0]
	err := s.dec.Feed(data, s)
	if len(s.out) > 0 {
		_, _ = s.Transport().Write(s.out)
	}
	if err != nil {
		s.Transport().CloseWithError(err)
	}
}

// PacketReceived appends body's echo to the output of this read. Loop
// goroutine.
func (s *Server) PacketReceived(body []byte) error {
	s.out = AppendPacket(s.out, body)
	s.packets++
	return nil
}

// Packets returns the number of packets echoed. Loop goroutine (or any
// goroutine once the connection is lost).
func (s *Server) Packets() int64 { return s.packets }
