// Command udpecho is Twisted's UDP echo server on whirl: every datagram goes
// back to its sender.
//
// Usage:
//
//	udpecho [--listen udp:8000] [--log-level info] [--loops 0]
//
// It logs to stderr and stops on SIGINT or SIGTERM. See README.md.
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
	"github.com/whirl-go/whirl/examples/udpecho/udpecho"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := udpecho.Run(ctx, "udpecho", os.Args[1:], os.Stderr, os.Stderr, nil)
	stop()
	var ue *cli.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "udpecho:", err)
		os.Exit(1)
	}
}
