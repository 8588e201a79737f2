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
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/echo/echo"
)

func main() {
	os.Exit(cli.Main("echo", echo.Factory()))
}
