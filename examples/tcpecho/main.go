// Command tcpecho is Tornado's demos/tcpecho server on whirl's streams: each
// line a client sends comes back to it.
//
// Usage:
//
//	tcpecho [--listen tcp:9888] [--log-level info] [--loops 0]
//
// The client is ./client. It logs to stderr, and stops gracefully on SIGINT
// or SIGTERM. See README.md.
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
	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := tcpecho.Run(ctx, "tcpecho", os.Args[1:], os.Stderr, os.Stderr, nil)
	stop()
	var ue *cli.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tcpecho:", err)
		os.Exit(1)
	}
}
