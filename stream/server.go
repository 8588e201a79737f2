package stream

import (
	"net"
	"sync"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// Handler is what a type embedding [TCPServer] is: a factory (promoted from
// the embedded TCPServer, or the type's own StartFactory and StopFactory)
// with a HandleStream method, Tornado's handle_stream.
//
//	type EchoServer struct{ stream.TCPServer }
//
//	func (e *EchoServer) HandleStream(s *stream.Stream, addr net.Addr) { ... }
//
//	var _ stream.Handler = (*EchoServer)(nil)
type Handler interface {
	factory.Factory
	// HandleStream is called for each new connection, with its stream and
	// the peer's address. It runs on the connection's loop, from
	// ConnectionMade; it starts the first read (or write) and returns.
	HandleStream(s *Stream, addr net.Addr)
}

// TCPServer is Tornado's TCPServer: a type that users embed, defining
// HandleStream(s *Stream, addr net.Addr) ([Handler]), and optionally
// StartFactory and StopFactory. Go's embedding cannot call the outer type's
// methods, so Init binds the server to the outer value, as
// protocol.MakeConnection binds a protocol.Base:
//
//	srv := &EchoServer{}
//	srv.Init(srv, r)
//	if _, err := srv.Listen("tcp:8888"); err != nil { ... }
//
// The outer value is itself the factory the reactor serves (BuildProtocol
// is TCPServer's, StartFactory and StopFactory the user's when defined), so
// it also works with any of the reactor's listen calls, for ports made
// elsewhere (Tornado's add_sockets): r.ListenUnix(path, srv, 0o660), then
// srv.AddPort(port) so that Stop closes it too. The reactor runs
// StartFactory when the first port starts listening and StopFactory after
// the last one stopped (reactor.Port's rules).
//
// A server is one process with the reactor's loops: Tornado's start(n)
// forks processes, whirl serves n cores with reactor.WithLoops(n) (one
// loop per CPU by default); several processes on one port take the
// reuseport=1 endpoint option (Tornado's bind_sockets(reuse_port=True)).
//
// Init, Listen, AddPort and Stop may be called from any goroutine; the
// settings are read when a connection is made.
type TCPServer struct {
	// MaxBufferSize, MaxWriteBufferSize and ReadAhead are given to each
	// connection's Stream (see its fields): Tornado's max_buffer_size and
	// read_chunk_size. Set them before listening.
	MaxBufferSize      int
	MaxWriteBufferSize int
	ReadAhead          int
	// ReuseBuffer is given to each connection's Stream: read callbacks
	// get data lent until they return (see Stream.ReuseBuffer).
	ReuseBuffer bool

	mu    sync.Mutex
	self  Handler
	r     *reactor.Reactor
	ports []*reactor.Port
}

var _ factory.Factory = (*TCPServer)(nil)

// Init binds the server to self, the value that embeds it (whose
// HandleStream serves each connection, and which is the factory given to
// the reactor), and to r, where Listen opens ports (nil if the server is
// only given to a reactor's listen calls by its caller). Call it once,
// before listening. Any goroutine.
func (srv *TCPServer) Init(self Handler, r *reactor.Reactor) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.self, srv.r = self, r
}

// handler returns the bound outer value.
func (srv *TCPServer) handler() Handler {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.self
}

// Listen listens on addr, an endpoint string ("tcp:8888",
// "tcp:0:interface=127.0.0.1", "unix:/run/echo.sock", "systemd:...") or a
// plain "host:port", and serves it: Tornado's listen. It may be called
// again for more addresses. opts apply to this port (reactor.Option). It
// returns the port (its Addr gives the bound port for port 0), or
// ErrNotInitialized when Init gave no reactor. Any goroutine.
func (srv *TCPServer) Listen(addr string, opts ...reactor.Option) (*reactor.Port, error) {
	srv.mu.Lock()
	self, r := srv.self, srv.r
	srv.mu.Unlock()
	if self == nil || r == nil {
		return nil, ErrNotInitialized
	}
	p, err := r.Listen(addr, self, opts...)
	if err != nil {
		return nil, err
	}
	srv.AddPort(p)
	return p, nil
}

// AddPort records a port made elsewhere with this server as its factory,
// so that Stop closes it: Tornado's add_sockets, for sockets the caller
// set up. Any goroutine.
func (srv *TCPServer) AddPort(p *reactor.Port) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.ports = append(srv.ports, p)
}

// Stop stops listening on every port of the server: Tornado's stop.
// Connections already open stay open (stop the reactor, or close their
// streams, to end them). StopFactory runs once the last port of the
// factory closed. It returns the first StopListening error. Any goroutine.
func (srv *TCPServer) Stop() error {
	srv.mu.Lock()
	ports := srv.ports
	srv.ports = nil
	srv.mu.Unlock()
	var first error
	for _, p := range ports {
		if err := p.StopListening(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// BuildProtocol returns the new connection's [Stream], with the server's
// settings, which calls the outer value's HandleStream once connected. It
// panics with ErrNotInitialized before Init (the reactor recovers the
// panic, logs it and closes the connection). The reactor calls it, on the
// connection's loop.
func (srv *TCPServer) BuildProtocol(addr net.Addr) protocol.Protocol {
	h := srv.handler()
	if h == nil {
		panic(ErrNotInitialized)
	}
	s := New(func(s *Stream) { h.HandleStream(s, addr) })
	s.MaxBufferSize = srv.MaxBufferSize
	s.MaxWriteBufferSize = srv.MaxWriteBufferSize
	s.ReadAhead = srv.ReadAhead
	s.ReuseBuffer = srv.ReuseBuffer
	return s
}

// StartFactory does nothing; a type embedding TCPServer may define its own.
// Goroutine of the listen call.
func (srv *TCPServer) StartFactory() {}

// StopFactory does nothing; a type embedding TCPServer may define its own.
// Goroutine of StopListening or the reactor's Stop.
func (srv *TCPServer) StopFactory() {}
