package portforward_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/whirl-go/whirl/examples/echo/echo"
	"github.com/whirl-go/whirl/examples/portforward/portforward"
	"github.com/whirl-go/whirl/reactor"
)

// A forwarder in front of an echo server, on one reactor: a client of the
// forwarder talks to the echo.
func Example() {
	r := reactor.New(reactor.WithLoops(2))
	dest, err := r.ListenTCP("127.0.0.1:0", echo.Factory())
	if err != nil {
		log.Fatal(err)
	}
	f := &portforward.Factory{Reactor: r, Connect: "tcp:" + dest.Addr().String()}
	if err := f.Check(); err != nil { // parses Connect into Dest
		log.Fatal(err)
	}
	front, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	c, err := net.Dial("tcp", front.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	msg := []byte("through the forwarder")
	if _, err := c.Write(msg); err != nil {
		log.Fatal(err)
	}
	// Read the whole echo before closing: as in Twisted, the first FIN from
	// either side closes both connections.
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		log.Fatal(err)
	}
	c.Close()
	fmt.Printf("%s\n", got)

	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	fmt.Println("forwarded:", f.Stats().Forwarded)
	// Output:
	// through the forwarder
	// forwarded: 1
}
