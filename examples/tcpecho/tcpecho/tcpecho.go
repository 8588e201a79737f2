package tcpecho

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/stream"
)

// DefaultPort is the demo's port (its --port default).
const DefaultPort = 9888

// MaxLine bounds a line, delimiter included: a longer one closes the
// connection (stream.ErrUnsatisfiableRead). Tornado's demo has no bound but
// its stream's 100 MiB buffer.
const MaxLine = 64 << 10

var newline = []byte("\n")

// Server is the demo's EchoServer: Tornado's TCPServer subclass, here a
// type embedding stream.TCPServer.
type Server struct {
	stream.TCPServer
	log zerolog.Logger

	mu      sync.Mutex
	clients map[string]int // the demo's clients set (by address; counted)
}

var _ stream.Handler = (*Server)(nil)

// NewServer returns the server, bound to itself (Init) for a reactor's
// listen calls: r.Listen("tcp:9888", srv). It logs each line at debug
// level and each lost client at info level to log. Any goroutine.
func NewServer(log zerolog.Logger) *Server {
	srv := &Server{log: log, clients: make(map[string]int)}
	srv.Init(srv, nil)
	return srv
}

// conn is one client: the demo's coroutine, whose awaits became the
// callbacks, bound once.
type conn struct {
	srv     *Server
	s       *stream.Stream
	addr    net.Addr
	gotLine func([]byte, error)
	written func(error)
}

// HandleStream adds the client and starts its loop: read a line, write it
// back, wait for the write, read the next. Loop goroutine.
func (srv *Server) HandleStream(s *stream.Stream, addr net.Addr) {
	srv.mu.Lock()
	srv.clients[addr.String()]++
	srv.mu.Unlock()
	c := &conn{srv: srv, s: s, addr: addr}
	c.gotLine, c.written = c.onLine, c.onWritten
	c.read()
}

// read is "data = await stream.read_until(b"\n")". Loop goroutine.
func (c *conn) read() { c.s.ReadUntil(newline, MaxLine, c.gotLine) }

// onLine is what follows the read: log the line, "await stream.write(data)".
// Loop goroutine.
func (c *conn) onLine(data []byte, err error) {
	if err != nil {
		c.lost(err)
		return
	}
	c.srv.log.Debug().Bytes("data", data).Stringer("peer", c.addr).Msg("received bytes")
	if err := c.s.Write(data, c.written); err != nil {
		c.lost(err)
	}
}

// onWritten is what follows the write: the loop goes round. Loop goroutine.
func (c *conn) onWritten(err error) {
	if err != nil {
		c.lost(err)
		return
	}
	c.read()
}

// lost is the demo's "except StreamClosedError": forget the client and log
// it. Loop goroutine.
func (c *conn) lost(err error) {
	c.srv.mu.Lock()
	key := c.addr.String()
	if c.srv.clients[key]--; c.srv.clients[key] <= 0 {
		delete(c.srv.clients, key)
	}
	c.srv.mu.Unlock()
	ev := c.srv.log.Info()
	if !errors.Is(err, stream.ErrStreamClosed) {
		ev = c.srv.log.Warn()
	}
	host, _, _ := net.SplitHostPort(key)
	ev.Str("host", host).AnErr("reason", err).Msg("lost client")
}

// Clients returns the number of clients connected. Any goroutine.
func (srv *Server) Clients() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for _, k := range srv.clients {
		n += k
	}
	return n
}

// clientFactory makes the client's one stream and hears how it ends.
type clientFactory struct {
	factory.ClientBase
	message string
	out     io.Writer
	once    sync.Once
	result  chan error
}

func (f *clientFactory) finish(err error) { f.once.Do(func() { f.result <- err }) }

// BuildProtocol returns the connection's stream. Connector's loop.
func (f *clientFactory) BuildProtocol(net.Addr) protocol.Protocol { return stream.New(f.connected) }

// connected is the demo's send_message once "stream = await
// TCPClient().connect(host, port)" returned. Connection's loop.
func (f *clientFactory) connected(s *stream.Stream) {
	err := s.Write([]byte(f.message+"\n"), func(err error) {
		if err != nil {
			f.finish(err)
			return
		}
		fmt.Fprintln(f.out, "Sent to server:", f.message)
		s.ReadUntil(newline, MaxLine, func(reply []byte, err error) {
			if err == nil {
				fmt.Fprintln(f.out, "Response from server:", string(bytes.TrimSpace(reply)))
			}
			s.Close()
			f.finish(err)
		})
	})
	if err != nil {
		f.finish(err)
	}
}

// ClientConnectionFailed reports a failed connect. Connector's loop.
func (f *clientFactory) ClientConnectionFailed(_ factory.Connector, reason error) { f.finish(reason) }

// ClientConnectionLost reports a connection lost before the reply.
// Connector's loop.
func (f *clientFactory) ClientConnectionLost(_ factory.Connector, reason error) {
	f.finish(fmt.Errorf("tcpecho: connection closed before the reply: %w", reason))
}

// Send is the demo's client: it connects to host:port, writes message and a
// newline, waits for the write, reads the reply line, and prints what it
// sent and the reply to out, as client.py does. It runs a reactor of one
// loop for the exchange and returns once it stopped. Any goroutine; it
// blocks.
func Send(ctx context.Context, host string, port int, message string, out io.Writer) error {
	r := reactor.New(reactor.WithLoops(1))
	f := &clientFactory{message: message, out: out, result: make(chan error, 1)}
	rctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(rctx) }()
	_, err := r.ConnectTCP(ctx, net.JoinHostPort(host, strconv.Itoa(port)), f)
	if err == nil {
		err = <-f.result
	}
	stop()
	if rerr := <-ran; err == nil {
		err = rerr
	}
	return err
}

// Run runs the server with the command-line arguments args (cli's server
// flags: --listen, default tcp:9888, --log-level, --loops and the limits)
// until ctx is done, logging to logs; usage errors go to stderr. ready, if
// not nil, gets the bound address. It returns flag.ErrHelp for -h, a
// *cli.UsageError for bad flags, and nil after a graceful stop. Any
// goroutine; it blocks.
func Run(ctx context.Context, name string, args []string, stderr io.Writer, logs *os.File, ready func(net.Addr)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	fl, err := cli.ParseServerFlags(fs, args, "tcp:"+strconv.Itoa(DefaultPort))
	if err != nil {
		return err
	}
	log, err := cli.NewLogger(logs, fl.LogLevel)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, logs, NewServer(log), ready)
}
