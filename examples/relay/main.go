// Command relay pairs the connections it accepts two by two and relays bytes
// between the two of each pair: what one sends, the other receives, in
// order, with memory kept flat by flow control whatever the speeds of the
// two peers.
//
// Usage:
//
//	relay [--listen tcp:8000] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM: it stops
// accepting, lets each connection flush what it was sent, then exits.
// See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/examples/relay/relay"
	"github.com/whirl-go/whirl/internal/cli"
)

func main() {
	var fl cli.Flags
	fl.Register(flag.CommandLine, "tcp:8000")
	flag.Parse()
	err := fl.Check()
	if err == nil && flag.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = fl.Serve(ctx, os.Stderr, &relay.Factory{}, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}
