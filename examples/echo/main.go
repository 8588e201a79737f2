// Command echo is Twisted's echo server on whirl: every connection gets back
// what it sends.
//
// Usage:
//
//	echo [--listen tcp:8000] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM: it stops
// accepting, lets open connections flush what they were sent, then exits.
// See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/examples/echo/echo"
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
		fmt.Fprintln(os.Stderr, "echo:", err)
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = fl.Serve(ctx, os.Stderr, echo.Factory(), nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}
