// Command simpleproto is gnet's simple-protocol example on whirl: a server
// that greets each client and echoes every length-prefixed packet, and a
// client that sends batches of random packets and checks every echo.
//
// Usage:
//
//	simpleproto [--listen tcp:9000] [--max-length 1048576] [--log-level info] [--loops 0]
//	simpleproto client [--address 127.0.0.1:9000] [--concurrency 100] [--packet-size 1024]
//	                   [--packet-batch 100] [--packet-count 100]
//
// The server logs to stderr and stops gracefully on SIGINT or SIGTERM; the
// client exits 0 when every echo came back intact, 1 otherwise. See
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
	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "client" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := simpleproto.RunClientCommand(ctx, "simpleproto client", os.Args[2:], os.Stdout, os.Stderr)
		stop()
		var ue *cli.UsageError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
		case errors.As(err, &ue):
			os.Exit(2)
		default:
			if !errors.Is(err, simpleproto.ErrClientsFailed) {
				fmt.Fprintln(os.Stderr, "simpleproto client:", err)
			}
			os.Exit(1)
		}
		return
	}
	var f simpleproto.Factory
	os.Exit(cli.MainAt("simpleproto", "tcp:9000", &f, &f))
}
