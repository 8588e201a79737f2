// Package servers holds the echo servers that whirl's benchmarks compare:
// raw gnet (gnet's own echo example), the Go standard library with a goroutine per connection, whirl's echo protocol,
// whirl's LineReceiver echoing lines, whirl's stream.TCPServer echoing lines
// read with ReadUntil, the UDP echoes of gnet and whirl (udp.go), and the
// UNIX-socket echoes of gnet and whirl (unix.go). The Python servers (Twisted, Tornado) are scripts in
// bench/python.
//
// Each server is started by [Serve]; the harness runs every one in its own
// process (bench server --kind ...), so that its memory and CPU time can be
// read from /proc and the process pinned to CPUs.
//
// # Goroutines
//
// Serve may be called from any goroutine and blocks until its context ends.
package servers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/examples/echo/echo"
	"github.com/whirl-go/whirl/reactor"
)

// The server kinds written in Go.
const (
	// Gnet is gnet's official echo example: OnTraffic takes everything
	// with Next(-1) and Writes it back.
	Gnet = "gnet"
	// Stdlib is the standard library: net.Listen, one goroutine per
	// connection reading into its own buffer and writing back.
	Stdlib = "stdlib"
	// Whirl is whirl's echo protocol (examples/echo) on a reactor.
	Whirl = "whirl"
	// WhirlLine is a whirl protocol embedding protocol.LineReceiver that
	// sends back each line it receives with SendLine.
	WhirlLine = "whirl-line"
	// WhirlStream is a stream.TCPServer that reads each line with
	// ReadUntil and writes it back (stream.go).
	WhirlStream = "whirl-stream"
)

// Errors returned by Serve.
var (
	// ErrUnknownKind is returned (wrapped, with the name) for a kind that
	// is not one of Kinds.
	ErrUnknownKind = errors.New("servers: unknown server kind")
)

// DefaultStdlibBuffer is the read buffer of each connection of the Stdlib
// server when Options.StdlibBuffer is 0.
const DefaultStdlibBuffer = 16 << 10

// Options tune the servers. The zero value means every default.
type Options struct {
	// Loops is the number of event loops of Gnet, Whirl, WhirlLine and WhirlStream;
	// 0 means GOMAXPROCS, as both gnet's multicore mode and whirl do.
	Loops int
	// StdlibBuffer is the per-connection read buffer of Stdlib, in bytes;
	// 0 means DefaultStdlibBuffer.
	StdlibBuffer int
}

func (o Options) loops() int {
	if o.Loops > 0 {
		return o.Loops
	}
	return runtime.GOMAXPROCS(0)
}

type serveFunc func(ctx context.Context, addr string, o Options, ready func(net.Addr)) error

var kinds = map[string]serveFunc{
	Gnet:        serveGnet,
	Stdlib:      serveStdlib,
	Whirl:       serveWhirl,
	WhirlLine:   serveWhirlLine,
	WhirlStream: serveWhirlStream,

	GnetUDP:        serveGnetUDP,
	WhirlUDP:       serveWhirlUDP(0),
	WhirlUDPSingle: serveWhirlUDP(1),
}

// Kinds returns the names of the Go servers, sorted. Any goroutine.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Known reports whether kind is one of Kinds. Any goroutine.
func Known(kind string) bool {
	_, ok := kinds[kind]
	return ok
}

// Serve runs the echo server kind on addr ("host:port", port 0 picking
// one; "unix:PATH" for the UNIX servers, see Unix) until ctx ends, then stops it and returns nil; it returns an error if the
// server could not start. ready, if not nil, is called once, on the
// goroutine that called Serve, with the bound address when the server accepts
// connections (a connection made earlier waits in the backlog). Any
// goroutine.
func Serve(ctx context.Context, kind, addr string, o Options, ready func(net.Addr)) error {
	fn, ok := kinds[kind]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKind, kind)
	}
	if ready == nil {
		ready = func(net.Addr) {}
	}
	return fn(ctx, addr, o, ready)
}

// serveWhirl runs examples/echo's protocol, as `whirl echo` does.
func serveWhirl(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	r := reactor.New(reactor.WithLoops(o.loops()))
	p, err := r.ListenTCP(addr, echo.Factory())
	if err != nil {
		return err
	}
	ready(p.Addr())
	return r.Run(ctx)
}

// gnetEcho is gnet's echo example (gnet-io/gnet-examples, echo): read all,
// write it back.
type gnetEcho struct {
	gnet.BuiltinEventEngine
	eng  gnet.Engine
	boot chan struct{}
	addr net.Addr
	berr error
}

// OnBoot learns the listener's address. gnet's loop goroutine.
func (e *gnetEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	e.addr, e.berr = listenerAddr(eng)
	close(e.boot)
	if e.berr != nil {
		return gnet.Shutdown
	}
	return gnet.None
}

// OnTraffic echoes what was read. gnet's loop goroutine.
func (e *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// listenerAddr reads the address gnet's listener is bound to.
func listenerAddr(eng gnet.Engine) (net.Addr, error) {
	fd, err := eng.Dup()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, err
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}, nil
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}, nil
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}, nil
	}
	return nil, fmt.Errorf("servers: gnet listens on a %T", sa)
}

// quietLogger drops gnet's debug and info lines (its start-up banner) and
// prints the rest on standard error, as gnet's default logger would.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any)             {}
func (quietLogger) Infof(string, ...any)              {}
func (quietLogger) Warnf(format string, args ...any)  { logLine("WARN", format, args) }
func (quietLogger) Errorf(format string, args ...any) { logLine("ERROR", format, args) }
func (quietLogger) Fatalf(format string, args ...any) {
	logLine("FATAL", format, args)
	os.Exit(1)
}

var _ logging.Logger = quietLogger{}

func logLine(level, format string, args []any) {
	fmt.Fprintf(os.Stderr, "gnet %s: %s\n", level, fmt.Sprintf(format, args...))
}

func serveGnet(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	return runGnet(ctx, &gnetEcho{}, "tcp", addr, o, ready)
}

// serveStdlib is the standard library's echo: a goroutine per connection
// with its own buffer.
func serveStdlib(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	size := o.StdlibBuffer
	if size <= 0 {
		size = DefaultStdlibBuffer
	}
	var (
		mu    sync.Mutex
		conns = make(map[net.Conn]struct{})
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	ready(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				break
			}
			time.Sleep(5 * time.Millisecond) // EMFILE and the like
			continue
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			break
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			echoConn(c, size)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return nil
}

func echoConn(c net.Conn, size int) {
	buf := make([]byte, size)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or an error: either way the connection is over
		}
	}
}
