// Command unixecho is gnet's UNIX-socket echo example (echo_uds) on whirl:
// every connection to the socket gets back what it sends.
//
// Usage:
//
//	unixecho [--listen unix:echo.sock] [--log-level info] [--loops 0]
//
// The socket file is made with mode 0666 and a lock file beside it
// (echo.sock.lock), so a socket left by a crashed server is replaced; it is
// removed when the server stops. It logs to stderr, and stops gracefully on
// SIGINT or SIGTERM. See README.md.
package main

import (
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/echo/echo"
)

func main() {
	os.Exit(cli.MainAt("unixecho", "unix:echo.sock", echo.Factory()))
}
