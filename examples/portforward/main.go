// Command portforward is Twisted's port forwarder on whirl: every connection
// it accepts is forwarded to a fixed destination over an outbound connection
// of its own, with flow control both ways.
//
// Usage:
//
//	portforward --connect tcp:HOST:PORT [--listen tcp:8000] [--log-level info] [--loops 0]
//
// --connect takes a client endpoint string (tcp:HOST:PORT,
// tcp:host=HOST:port=PORT:timeout=5, unix:path=/run/app.sock) or a plain
// host:port. It logs to stderr, and stops gracefully on SIGINT or SIGTERM:
// it stops accepting, lets each connection flush what it was sent, then
// exits. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/portforward/portforward"
)

func main() {
	os.Exit(run())
}

// run is main, returning the exit status: 0 after a graceful stop or -h, 2
// for a usage error, 1 when the forwarder could not run.
func run() int {
	f := &portforward.Factory{}
	fs := flag.NewFlagSet("portforward", flag.ContinueOnError)
	fl, err := cli.ParseServerFlags(fs, os.Args[1:], "tcp:8000", f)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, fl, f); err != nil {
		fmt.Fprintf(os.Stderr, "portforward: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the forwarder with the parsed flags until ctx is done.
func serve(ctx context.Context, fl *cli.Flags, f *portforward.Factory) error {
	log, err := cli.NewLogger(os.Stderr, fl.LogLevel)
	if err != nil {
		return err
	}
	opts, err := fl.Options()
	if err != nil {
		return err
	}
	return portforward.Serve(ctx, log, fl.Listen, f, nil, opts...)
}
