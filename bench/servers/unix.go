package servers

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/whirl-go/whirl/examples/echo/echo"
	"github.com/whirl-go/whirl/reactor"
)

// The UNIX-socket echo servers: the TCP echoes' protocols on a stream
// socket at a path. Serve's addr for them is "unix:PATH" (UnixPrefix).
const (
	// GnetUnix is gnet's echo_uds example (gnet-io/gnet-examples,
	// echo_uds): gnet's engine on unix://PATH, OnTraffic takes everything
	// with Next(-1) and Writes it back. gnet removes whatever is at PATH
	// before it binds, and the socket file when it stops.
	GnetUnix = "gnet-unix"
	// WhirlUnix is examples/echo's protocol on reactor.ListenUnix, mode
	// 0666 and no lock file (the endpoint unix:PATH of `whirl echo
	// --listen` also takes a lock file beside the socket; the connections'
	// path is the same). It refuses a PATH where a socket already listens,
	// and removes its socket file when it stops.
	WhirlUnix = "whirl-unix"
)

// UnixPrefix starts the Serve address of a UNIX server: "unix:" and the
// socket's path. The same form as loadgen's UNIX addresses.
const UnixPrefix = "unix:"

// Unix reports whether kind is a UNIX-socket echo server. Any goroutine.
func Unix(kind string) bool { return kind == GnetUnix || kind == WhirlUnix }

func init() {
	kinds[GnetUnix] = serveGnetUnix
	kinds[WhirlUnix] = serveWhirlUnix
}

// unixPath returns the socket path of a UNIX server's Serve address.
func unixPath(kind, addr string) (string, error) {
	path, ok := strings.CutPrefix(addr, UnixPrefix)
	if !ok || path == "" {
		return "", fmt.Errorf("servers: %s listens on %sPATH, not %q", kind, UnixPrefix, addr)
	}
	return path, nil
}

// serveGnetUnix runs gnet's echo on unix://PATH: the echo_uds example.
func serveGnetUnix(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	path, err := unixPath(GnetUnix, addr)
	if err != nil {
		return err
	}
	return runGnet(ctx, &gnetEcho{}, "unix", path, o, ready)
}

// serveWhirlUnix runs examples/echo's protocol on reactor.ListenUnix.
func serveWhirlUnix(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	path, err := unixPath(WhirlUnix, addr)
	if err != nil {
		return err
	}
	r := reactor.New(reactor.WithLoops(o.loops()))
	p, err := r.ListenUnix(path, echo.Factory(), 0)
	if err != nil {
		return err
	}
	ready(p.Addr())
	return r.Run(ctx)
}
