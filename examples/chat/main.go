// Command chat is a line-based chat server, a port of the chat servers of
// Twisted's documentation: every line a client sends reaches every other
// client, prefixed by the sender's nickname.
//
// Usage:
//
//	chat [--listen tcp:8000] [--max-length 16384] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM: it stops
// accepting, lets open connections flush what they were sent, then exits.
// See README.md for the protocol.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/internal/cli"
)

func main() {
	var fl cli.Flags
	var f chat.Factory
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
		fmt.Fprintln(os.Stderr, "chat:", err)
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = fl.Serve(ctx, os.Stderr, &f, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}
