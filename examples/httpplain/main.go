// Command httpplain is gnet's HTTP example on whirl: every request gets
// "Hello World!", over HTTP/1.1 keep-alive and pipelining, as TechEmpower's
// plaintext test asks. It is not a general HTTP server.
//
// Usage:
//
//	httpplain [--listen tcp:8080] [--max-header-bytes 8192] [--max-body-bytes 1048576]
//	          [--max-per-ip 100] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM. See
// README.md.
package main

import (
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
)

func main() {
	var f httpplain.Factory
	os.Exit(cli.MainAt("httpplain", "tcp:8080", &f, &f))
}
