package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// A stream over the in-memory transport of package transporttest: it reads
// a line, writes it back, and reads the next, until a line "quit\n", which
// closes it (what follows is dropped). The example plays the reactor's
// part: it feeds the input by calling DataReceived, in pieces that do not
// follow the lines, reads what was written with Value, and calls
// ConnectionLost.
func Example() {
	tr := transporttest.New()
	nl := []byte("\n")
	var s *stream.Stream
	var gotLine func(line []byte, err error)
	gotLine = func(line []byte, err error) {
		if err != nil {
			return // the stream is closed
		}
		if string(line) == "quit\n" {
			s.Close() // flushes what was written, then closes
			return
		}
		fmt.Printf("read %q\n", line)
		_ = s.Write(line, nil)
		s.ReadUntil(nl, 0, gotLine)
	}
	s = stream.New(func(s *stream.Stream) { s.ReadUntil(nl, 0, gotLine) })
	s.SetCloseCallback(func() { fmt.Println("close callback:", s.CloseReason()) })
	protocol.MakeConnection(s, tr) // the reactor's part: ConnectionMade

	s.DataReceived([]byte("hel"))
	s.DataReceived([]byte("lo\nwor"))
	s.DataReceived([]byte("ld\nquit\nignored"))
	fmt.Printf("wrote %q\n", tr.Value())
	fmt.Println("closed:", s.Closed(), "transport disconnected:", tr.Disconnected())

	s.ConnectionLost(transport.ErrConnectionDone) // the reactor would call it once closed
	// Output:
	// read "hello\n"
	// read "world\n"
	// wrote "hello\nworld\n"
	// closed: true transport disconnected: true
	// close callback: transport: connection closed cleanly
}

// exampleLineEcho is Tornado's tcpecho server: read a line, write it back,
// wait for the write to reach the kernel, read the next.
type exampleLineEcho struct{ stream.TCPServer }

func (e *exampleLineEcho) HandleStream(s *stream.Stream, _ net.Addr) {
	nl := []byte("\n")
	var gotLine func([]byte, error)
	written := func(err error) {
		if err == nil {
			s.ReadUntil(nl, 0, gotLine)
		}
	}
	gotLine = func(data []byte, err error) {
		if err == nil {
			_ = s.Write(data, written)
		}
	}
	s.ReadUntil(nl, 0, gotLine)
}

// A TCPServer on a loopback port that the system picks, reached with a
// net.Conn.
func ExampleTCPServer() {
	r := reactor.New(reactor.WithLoops(1))
	srv := &exampleLineEcho{}
	srv.Init(srv, r)
	port, err := srv.Listen("tcp:0:interface=127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	c, err := net.DialTimeout("tcp", port.Addr().String(), 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte("hello\nwhirl\n")); err != nil {
		log.Fatal(err)
	}
	in := bufio.NewReader(c)
	for range 2 {
		line, err := in.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("echoed %q\n", line)
	}
	c.Close()

	if err := srv.Stop(); err != nil { // stop listening
		log.Fatal(err)
	}
	cancel() // Run stops the reactor gracefully and returns
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// echoed "hello\n"
	// echoed "whirl\n"
}
