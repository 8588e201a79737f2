// Command push is gnet's push example on whirl: every connection gets a
// timestamp line (nanoseconds since the Unix epoch) at each tick, and what
// a client sends is echoed.
//
// Usage:
//
//	push [--listen tcp:9000] [--interval 1s] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM. See
// README.md.
package main

import (
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/push/push"
)

func main() {
	var f push.Factory
	os.Exit(cli.MainAt("push", "tcp:9000", &f, &f))
}
