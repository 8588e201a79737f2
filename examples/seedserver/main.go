// Command seedserver is the server of the document whirl was created from
// ("a simple TCPServer" on Tornado's IOLoop), ported line by line onto
// whirl's streams: it upper-cases every chunk a client sends and sends it
// back, and logs each connection and close.
//
// Usage:
//
//	seedserver [--listen tcp:8000] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM. See
// README.md.
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
	"github.com/whirl-go/whirl/examples/seedserver/seedserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := seedserver.Run(ctx, "seedserver", os.Args[1:], os.Stderr, os.Stderr, nil)
	stop()
	var ue *cli.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "seedserver:", err)
		os.Exit(1)
	}
}
