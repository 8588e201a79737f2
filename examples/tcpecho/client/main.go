// Command client is Tornado's demos/tcpecho client on whirl's streams: it
// sends one message and a newline to the echo server, waits for the write,
// reads the reply line and prints both.
//
// Usage:
//
//	client [--host localhost] [--port 9888] [--message ping]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
)

func main() {
	host := flag.String("host", "localhost", "TCP server host")
	port := flag.Int("port", tcpecho.DefaultPort, "TCP port to connect to")
	message := flag.String("message", "ping", "Message to send")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := tcpecho.Send(ctx, *host, *port, *message, os.Stdout)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}
