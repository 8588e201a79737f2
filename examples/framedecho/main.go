// Command framedecho is an echo server for framed messages: every complete
// frame comes back in the same framing, Twisted's Int32StringReceiver,
// Int16StringReceiver, Int8StringReceiver or NetstringReceiver.
//
// Usage:
//
//	framedecho --framing int32|int16|int8|netstring [--max-length 99999]
//	           [--listen tcp:8000] [--log-level info] [--loops 0]
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

	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
	"github.com/whirl-go/whirl/internal/cli"
)

func main() {
	var fl cli.Flags
	var f framedecho.Factory
	fl.Register(flag.CommandLine, "tcp:8000")
	f.RegisterFlags(flag.CommandLine)
	flag.Parse()
	err := fl.Check()
	if err == nil {
		err = f.Check()
	}
	if err == nil && flag.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "framedecho:", err)
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = fl.Serve(ctx, os.Stderr, &f, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "framedecho:", err)
		os.Exit(1)
	}
}
