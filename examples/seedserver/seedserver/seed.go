package seedserver

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/stream"
)

// Kwargs are the seed's **build_kwargs, passed to the build class for every
// connection.
type Kwargs map[string]any

// Conn is what the build class builds for each connection: the seed's
// conn, whose class the document does not show. The methods the seed calls
// are here, in Go's spelling.
type Conn interface {
	// SetCloseCallback is set_close_callback: fn runs once the
	// connection is gone. Loop goroutine.
	SetCloseCallback(fn func())
	// GetAddress is getaddress: the peer's address. Any goroutine.
	GetAddress() net.Addr
	// ReadChunksUntilClose is read_util_close (sic) as the seed uses it:
	// handle gets every chunk received until the peer closes. Loop
	// goroutine.
	ReadChunksUntilClose(handle func(buff []byte))
	// Write writes data; done, if not nil, runs once it reached the
	// kernel (stream.Stream.Write). Loop goroutine.
	Write(data []byte, done func(error)) error
	// Close closes the connection after what was written is sent. Loop
	// goroutine.
	Close()
}

// BuildClass is the seed's build_class: it makes the connection object for
// an accepted connection, here its stream, with the server's kwargs. It
// runs on the connection's loop.
type BuildClass func(s *stream.Stream, kwargs Kwargs) Conn

// DefaultChunkSize is the largest chunk ReadChunksUntilClose hands over
// when the kwargs give no "chunk_size".
const DefaultChunkSize = 64 << 10

// Connection is the default build class's connection: a stream with the
// seed's method names. Its chunks are read with ReadBytes(n, partial):
// whatever arrived, up to ChunkSize, not a fixed 1024 bytes.
type Connection struct {
	*stream.Stream
	// ChunkSize is the largest chunk handed to the read_util_close
	// callback (kwargs "chunk_size").
	ChunkSize int

	handle func([]byte)
	got    func([]byte, error) // onChunk, bound once
}

var _ Conn = (*Connection)(nil)

// NewConnection is the default build class: a Connection over s, with
// "chunk_size" (an int) from kwargs. Loop goroutine.
func NewConnection(s *stream.Stream, kwargs Kwargs) Conn {
	c := &Connection{Stream: s, ChunkSize: DefaultChunkSize}
	if n, ok := kwargs["chunk_size"].(int); ok && n > 0 {
		c.ChunkSize = n
	}
	c.got = c.onChunk
	return c
}

// GetAddress returns the peer's address. Any goroutine.
func (c *Connection) GetAddress() net.Addr { return c.RemoteAddr() }

// ReadChunksUntilClose hands every chunk received to handle until the peer
// closes (or the stream does). Each chunk is handle's to keep. Loop
// goroutine.
func (c *Connection) ReadChunksUntilClose(handle func(buff []byte)) {
	c.handle = handle
	c.ReadBytes(c.ChunkSize, true, c.got)
}

// onChunk passes a chunk on and reads the next one. Loop goroutine.
func (c *Connection) onChunk(buff []byte, err error) {
	if err != nil {
		return // closed: the close callback tells
	}
	c.handle(buff)
	if !c.Closed() {
		c.ReadBytes(c.ChunkSize, true, c.got)
	}
}

// Handler is what a type embedding [TCPServer] is: the seed's methods that
// a subclass overrides, promoted from TCPServer unless the type defines its
// own.
type Handler interface {
	StartFactory()
	StopFactory()
	OnConnect(conn Conn)
	HandleStream(conn Conn, buff []byte)
	OnClose(conn Conn)
}

// TCPServer is the seed's TcpServer class. Embed it, override what the
// seed's subclasses override (HandleStream, and OnConnect, OnClose,
// StartFactory, StopFactory if need be), and bind it with Init: Go's
// embedding cannot call the outer type's methods, so Init stores the outer
// value, as protocol.MakeConnection does for a protocol.
type TCPServer struct {
	// Wrap, if not nil, wraps the factory each port serves
	// (policies.LimitTotalConnections, ...). Set it before Start.
	Wrap func(factory.Factory) factory.Factory

	address     string
	buildClass  BuildClass
	buildKwargs Kwargs
	self        Handler
	r           *reactor.Reactor
	log         zerolog.Logger

	acc      acceptor
	stopOnce sync.Once
}

// acceptor is the stream.TCPServer under the seed's server: its
// HandleStream is the seed's _handle_connect.
type acceptor struct {
	stream.TCPServer
	srv *TCPServer
}

// HandleStream is _handle_connect. Loop goroutine.
func (a *acceptor) HandleStream(s *stream.Stream, _ net.Addr) { a.srv.handleConnect(s) }

// Init is the seed's __init__(address, build_class, **build_kwargs), with
// what Python finds globally passed in: self is the value embedding the
// server (its overrides are called), r the reactor (the seed's
// IOLoop.instance()), log the logger (the seed's logger). address is an
// endpoint string ("tcp:8000", "tcp:0:interface=127.0.0.1") or host:port;
// a nil buildClass means NewConnection. Any goroutine, before Start.
func (s *TCPServer) Init(self Handler, r *reactor.Reactor, log zerolog.Logger, address string, buildClass BuildClass, buildKwargs Kwargs) {
	if buildClass == nil {
		buildClass = NewConnection
	}
	s.self, s.r, s.log = self, r, log
	s.address, s.buildClass, s.buildKwargs = address, buildClass, buildKwargs
	s.acc.srv = s
	s.acc.Init(&s.acc, r)
}

// handleConnect is _handle_connect: build the connection, OnConnect, and
// OnClose as its close callback. Loop goroutine.
func (s *TCPServer) handleConnect(st *stream.Stream) {
	conn := s.buildClass(st, s.buildKwargs)
	s.self.OnConnect(conn)
	conn.SetCloseCallback(func() { s.self.OnClose(conn) })
}

// Start is start(backlog): it listens on the address (build_listener; whirl's
// loops accept, where the seed added an accept handler to the IOLoop),
// runs StartFactory once the reactor runs (add_callback), and, which the
// seed never does, has the reactor's stop call Stop, so StopFactory runs.
// backlog 0 keeps the endpoint's (or the reactor's) backlog. It returns
// the bound address. Any goroutine.
func (s *TCPServer) Start(backlog int) (net.Addr, error) {
	if s.self == nil || s.r == nil {
		return nil, fmt.Errorf("seedserver: Start before Init: %w", stream.ErrNotInitialized)
	}
	var opts []reactor.Option
	if backlog > 0 {
		opts = append(opts, reactor.WithBacklog(backlog))
	}
	var f factory.Factory = &s.acc
	if s.Wrap != nil {
		f = s.Wrap(f)
	}
	p, err := s.r.Listen(s.address, f, opts...)
	if err != nil {
		return nil, err
	}
	s.acc.AddPort(p)
	if err := s.r.CallFromGoroutine(s.self.StartFactory); err != nil {
		return nil, err
	}
	s.r.OnShutdown(func(context.Context) error { return s.Stop() })
	return p.Addr(), nil
}

// Stop stops listening (open connections stay) and calls StopFactory,
// once. Any goroutine.
func (s *TCPServer) Stop() error {
	err := s.acc.Stop()
	s.stopOnce.Do(s.self.StopFactory)
	return err
}

// StartFactory does nothing: startFactory. Loop 0.
func (s *TCPServer) StartFactory() {}

// StopFactory does nothing: stopFactory. Goroutine of Stop.
func (s *TCPServer) StopFactory() {}

// HandleStream gets each chunk read from conn: handle_stream, which a
// subclass overrides. This one logs at debug level. Loop goroutine.
func (s *TCPServer) HandleStream(conn Conn, buff []byte) {
	s.log.Debug().Int("bytes", len(buff)).Msg("handle_stream")
}

// OnClose runs when conn is gone: on_close. This one logs at debug level.
// Loop goroutine.
func (s *TCPServer) OnClose(conn Conn) {
	s.log.Debug().Stringer("peer", conn.GetAddress()).Msg("on_close")
}

// OnConnect runs for each new connection: on_connect. It logs the peer and
// reads until close, each chunk going to HandleStream. Loop goroutine.
func (s *TCPServer) OnConnect(conn Conn) {
	s.log.Debug().Stringer("peer", conn.GetAddress()).Msg("on_connect")
	self := s.self
	conn.ReadChunksUntilClose(func(buff []byte) { self.HandleStream(conn, buff) })
}

// Log returns the logger given to Init. Any goroutine.
func (s *TCPServer) Log() *zerolog.Logger { return &s.log }
