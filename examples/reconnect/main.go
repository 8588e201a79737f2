// Command reconnect is a line client that stays connected across server
// restarts, with Twisted's ReconnectingClientFactory backoff: it sends each
// line read from stdin (and, with --heartbeat, a "PING n" line at that rate),
// prints each line it receives on stdout, and when the server goes away it
// tries again after 1 s×e, then ×e again, up to --max-delay.
//
// Usage:
//
//	reconnect [--connect tcp:127.0.0.1:8000] [--initial-delay 1s] [--max-delay 1h] [--heartbeat 0] [--log-level info]
//
// Lines are CR LF terminated on the wire, as the chat example (whirl chat)
// and Twisted's LineReceiver expect. Lines typed while no connection is up
// are dropped, with a note on stderr. It logs connections, losses and retries
// to stderr, and stops on SIGINT or SIGTERM (the end of stdin does not stop
// it). See README.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/examples/reconnect/reconnect"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run runs the client with args until ctx is done, and returns the exit
// status: 0 after a stop or -h, 2 for a usage error, 1 when the client could
// not run.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, stderr *os.File) int {
	fs := flag.NewFlagSet("reconnect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	connect := fs.String("connect", "tcp:127.0.0.1:8000", "`address` of the line server: tcp:HOST:PORT, tcp:host=HOST:port=PORT[:timeout=SECONDS], unix:path=PATH, or host:port")
	initial := fs.Duration("initial-delay", factory.DefaultInitialDelay, "the backoff's starting `delay`: the first retry waits this times e")
	maxDelay := fs.Duration("max-delay", factory.DefaultMaxDelay, "longest `delay` between two attempts")
	heartbeat := fs.Duration("heartbeat", 0, "send a PING line at this `interval` while connected (0: none)")
	level := fs.String("log-level", cli.DefaultLogLevel, "log `level`: trace, debug, info, warn, error or disabled")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *initial <= 0 || *maxDelay <= 0:
		err = errors.New("--initial-delay and --max-delay must be positive")
	case *heartbeat < 0:
		err = errors.New("--heartbeat must not be negative")
	default:
		_, err = endpoint.ParseClient(*connect)
	}
	log, lerr := cli.NewLogger(stderr, *level)
	if err == nil {
		err = lerr
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return exitUsage
	}

	f := &reconnect.Factory{
		Heartbeat: *heartbeat,
		Log:       log,
		// The loop blocks while stdout does: with one loop and one
		// connection, that only holds back the server, as TCP would.
		Received: func(line []byte) { fmt.Fprintf(stdout, "%s\n", line) },
	}
	f.InitialDelay, f.MaxDelay = *initial, *maxDelay
	r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(log))
	if _, err := reconnect.Connect(ctx, r, *connect, f); err != nil {
		fmt.Fprintf(stderr, "reconnect: %v\n", err)
		return exitError
	}
	go sendLines(stdin, f, stderr)
	start := time.Now()
	if err := r.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "reconnect: %v\n", err)
		return exitError
	}
	log.Info().Int("sessions", f.Sessions()).Stringer("uptime", time.Since(start).Round(time.Millisecond)).Msg("stopped")
	return exitOK
}

// sendLines sends each line of in over the client's connection, until the
// end of in; a line read while no connection is up is dropped, with a note
// on stderr.
func sendLines(in io.Reader, f *reconnect.Factory, stderr io.Writer) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if err := f.Send(sc.Bytes()); err != nil {
			fmt.Fprintf(stderr, "reconnect: line not sent: %v\n", err)
		}
	}
}
