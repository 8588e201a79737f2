package seedserver

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/reactor"
)

// UpperServer is the example server made from the seed's class: it
// upper-cases each chunk (ASCII letters; a chunk may end inside a UTF-8
// sequence, so nothing else is touched) and sends it back, and logs each
// connection and close with the peer's address, and the factory's start and
// stop.
type UpperServer struct {
	TCPServer
}

var _ Handler = (*UpperServer)(nil)

// NewUpperServer returns the server for address on r, with the default
// build class and kwargs, logging to log. Any goroutine.
func NewUpperServer(r *reactor.Reactor, log zerolog.Logger, address string, kwargs Kwargs) *UpperServer {
	srv := &UpperServer{}
	srv.Init(srv, r, log, address, NewConnection, kwargs)
	return srv
}

// OnConnect logs the peer, then does the seed's on_connect (read until
// close). Loop goroutine.
func (u *UpperServer) OnConnect(conn Conn) {
	u.Log().Info().Stringer("peer", conn.GetAddress()).Msg("connected")
	u.TCPServer.OnConnect(conn)
}

// HandleStream upper-cases buff in place (the chunk is the handler's: the
// stream gives, not lends, what it reads) and writes it back. Loop
// goroutine.
func (u *UpperServer) HandleStream(conn Conn, buff []byte) {
	for i, b := range buff {
		if 'a' <= b && b <= 'z' {
			buff[i] = b - ('a' - 'A')
		}
	}
	_ = conn.Write(buff, nil)
}

// OnClose logs the peer. Loop goroutine.
func (u *UpperServer) OnClose(conn Conn) {
	u.Log().Info().Stringer("peer", conn.GetAddress()).Msg("closed")
}

// StartFactory logs that the factory started. Loop 0, once the reactor
// runs.
func (u *UpperServer) StartFactory() { u.Log().Info().Msg("factory started") }

// StopFactory logs that the factory stopped. Goroutine of Stop.
func (u *UpperServer) StopFactory() { u.Log().Info().Msg("factory stopped") }

// Run runs the upper-casing server with the command-line arguments args
// (cli's server flags: --listen, default tcp:8000, --log-level, --loops
// and the limits) until ctx is done, logging to logs; usage errors go to
// stderr. ready, if not nil, gets the bound address. It returns
// flag.ErrHelp for -h, a *cli.UsageError for bad flags, and nil after a
// graceful stop. Any goroutine; it blocks.
func Run(ctx context.Context, name string, args []string, stderr io.Writer, logs *os.File, ready func(net.Addr)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	fl, err := cli.ParseServerFlags(fs, args, "tcp:8000")
	if err != nil {
		return err
	}
	log, err := cli.NewLogger(logs, fl.LogLevel)
	if err != nil {
		return err
	}
	opts, err := fl.Options()
	if err != nil {
		return err
	}
	r := reactor.New(append(opts, reactor.WithLogger(log))...)
	srv := NewUpperServer(r, log, fl.Listen, nil)
	srv.Wrap = fl.Wrap
	addr, err := srv.Start(0)
	if err != nil {
		return fmt.Errorf("seedserver: listen on %s: %w", fl.Listen, err)
	}
	log.Info().Str("addr", addr.String()).Str("listen", fl.Listen).Msg("listening")
	if ready != nil {
		ready(addr)
	}
	start := time.Now()
	err = r.Run(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Stringer("uptime", time.Since(start).Round(time.Millisecond)).Msg("stopped")
	return err
}
