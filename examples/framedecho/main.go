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
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
)

func main() {
	var f framedecho.Factory
	os.Exit(cli.Main("framedecho", &f, &f))
}
