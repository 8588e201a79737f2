// Command chat is a line-based chat server, a port of the chat servers of
// Twisted's documentation: every line a client sends reaches every other
// client, prefixed by the sender's nickname.
//
// Usage:
//
//	chat [--listen tcp:8000] [--max-length 16384] [--sendq 1MiB] [--sendq-hold 250ms]
//	     [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM: it stops
// accepting, lets open connections flush what they were sent, then exits.
// See README.md for the protocol.
package main

import (
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/chat/chat"
)

func main() {
	var f chat.Factory
	os.Exit(cli.Main("chat", &f, &f))
}
