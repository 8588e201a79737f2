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
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/relay/relay"
)

func main() {
	os.Exit(cli.Main("relay", &relay.Factory{}))
}
