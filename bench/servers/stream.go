package servers

import (
	"context"
	"net"

	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/stream"
)

// streamEchoServer is a stream.TCPServer whose connections echo lines read
// with ReadUntil.
type streamEchoServer struct{ stream.TCPServer }

// streamMaxLine bounds a line (ReadUntil's maxBytes); streamMaxUnsent is
// the output past which a connection waits for its writes before reading
// on, so that a peer that does not read is pushed back.
const (
	streamMaxLine   = 64 << 10
	streamMaxUnsent = 64 << 10
)

var streamNL = []byte("\n")

// streamEcho is one connection: its callbacks are bound once, so that
// reading and writing a line allocates nothing.
type streamEcho struct {
	s       *stream.Stream
	gotLine func([]byte, error)
	drained func(error)
}

// HandleStream starts the line loop. Loop goroutine.
func (srv *streamEchoServer) HandleStream(s *stream.Stream, _ net.Addr) {
	c := &streamEcho{s: s}
	c.gotLine, c.drained = c.onLine, c.onDrained
	c.read()
}

func (c *streamEcho) read() { c.s.ReadUntil(streamNL, streamMaxLine, c.gotLine) }

// onLine writes the line back and reads the next one, unless more than
// streamMaxUnsent bytes wait to be sent: then it reads on once they left.
// Loop goroutine.
func (c *streamEcho) onLine(line []byte, err error) {
	if err != nil || c.s.Write(line, nil) != nil {
		return
	}
	if c.s.Unsent() > streamMaxUnsent {
		_ = c.s.Write(nil, c.drained)
		return
	}
	c.read()
}

// onDrained reads on once the output left. Loop goroutine.
func (c *streamEcho) onDrained(err error) {
	if err == nil {
		c.read()
	}
}

func serveWhirlStream(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	r := reactor.New(reactor.WithLoops(o.loops()))
	srv := &streamEchoServer{}
	srv.ReuseBuffer = true // lines are written back at once, never kept
	srv.Init(srv, r)
	p, err := srv.Listen(addr)
	if err != nil {
		return err
	}
	ready(p.Addr())
	return r.Run(ctx)
}
