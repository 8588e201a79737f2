package tcpecho_test

import (
	"context"
	"log"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
	"github.com/whirl-go/whirl/reactor"
)

// The echo server on a loopback port that the system picks, and the demo's
// client, which sends one line and prints the reply.
func Example() {
	r := reactor.New(reactor.WithLoops(1))
	srv := tcpecho.NewServer(zerolog.Nop())
	port, err := r.Listen("tcp:0:interface=127.0.0.1", srv)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	addr := port.Addr().(*net.TCPAddr)
	sendCtx, sendCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer sendCancel()
	if err := tcpecho.Send(sendCtx, addr.IP.String(), addr.Port, "hello, whirl", os.Stdout); err != nil {
		log.Fatal(err)
	}

	cancel() // Run stops the reactor gracefully and returns
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Sent to server: hello, whirl
	// Response from server: hello, whirl
}
