package udpecho_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/whirl-go/whirl/examples/udpecho/udpecho"
	"github.com/whirl-go/whirl/reactor"
)

// The echo on one socket of a one-loop reactor, reached with a net.Conn.
func Example() {
	r := reactor.New(reactor.WithLoops(1))
	ports, err := udpecho.Listen(r, "127.0.0.1:0", 1)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-stopped; err != nil {
			log.Fatal(err)
		}
	}()

	c, err := net.Dial("udp", ports[0].LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	for try := 0; ; try++ { // UDP may drop a datagram: send until it comes back
		if _, err := c.Write([]byte("one datagram")); err != nil {
			log.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			fmt.Printf("%s\n", buf[:n])
			return
		}
		if try == 50 {
			log.Fatal(err)
		}
	}
	// Output:
	// one datagram
}
