// Command websocket is gnet's WebSocket example on whirl: an RFC 6455 echo
// server (the handshake and frame headers from github.com/gobwas/ws).
//
// Usage:
//
//	websocket [--listen tcp:9080] [--max-message-bytes 1048576] [--log-level info] [--loops 0]
//
// It logs to stderr, and stops gracefully on SIGINT or SIGTERM. See
// README.md.
package main

import (
	"os"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/websocket/websocket"
)

func main() {
	var f websocket.Factory
	os.Exit(cli.MainAt("websocket", "tcp:9080", &f, &f))
}
