package seedserver_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/examples/seedserver/seedserver"
	"github.com/whirl-go/whirl/reactor"
)

// The upper-casing server on a loopback port that the system picks,
// reached with a net.Conn.
func Example() {
	r := reactor.New(reactor.WithLoops(1))
	srv := seedserver.NewUpperServer(r, zerolog.Nop(), "tcp:0:interface=127.0.0.1", nil)
	addr, err := srv.Start(0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := "Hello, seed!"
	if _, err := io.WriteString(c, msg); err != nil {
		log.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", got)
	c.Close()

	cancel() // the reactor's stop calls srv.Stop, then Run returns
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// HELLO, SEED!
}

// byteCounter is a subclass of the seed's server: it keeps the seed's
// OnConnect (read until close, each chunk to HandleStream) and overrides
// HandleStream and OnClose.
type byteCounter struct {
	seedserver.TCPServer
	n      int // bytes received; one connection, on its loop
	closed chan int
}

func (b *byteCounter) HandleStream(_ seedserver.Conn, buff []byte) { b.n += len(buff) }

func (b *byteCounter) OnClose(seedserver.Conn) { b.closed <- b.n }

// A server of one's own: a type that embeds TCPServer, bound to itself
// with Init, its chunks at most 4 bytes long (the kwargs' "chunk_size").
func ExampleTCPServer() {
	r := reactor.New(reactor.WithLoops(1))
	srv := &byteCounter{closed: make(chan int, 1)}
	srv.Init(srv, r, zerolog.Nop(), "tcp:0:interface=127.0.0.1", nil, seedserver.Kwargs{"chunk_size": 4})
	addr, err := srv.Start(0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.WriteString(c, "twenty-one bytes sent"); err != nil {
		log.Fatal(err)
	}
	c.Close() // the server reads until the close, then OnClose runs
	select {
	case n := <-srv.closed:
		fmt.Println("OnClose after", n, "bytes")
	case <-time.After(30 * time.Second):
		log.Fatal("OnClose did not run")
	}

	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// OnClose after 21 bytes
}
