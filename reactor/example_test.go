package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// exampleEcho writes back what it receives, bounded: the transport is the producer
// of its own output.
type exampleEcho struct{ protocol.Base }

func (e *exampleEcho) ConnectionMade() { _ = e.Transport().RegisterProducer(e.Transport(), true) }

func (e *exampleEcho) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

// exampleGreeter sends a message, waits for all of it to come back, closes, and
// reports what it got and how the connection ended.
type exampleGreeter struct {
	protocol.Base
	msg  string
	got  []byte
	done chan<- string
}

func (g *exampleGreeter) ConnectionMade() { _, _ = g.Transport().Write([]byte(g.msg)) }

func (g *exampleGreeter) DataReceived(data []byte) {
	g.got = append(g.got, data...) // data is borrowed: append copies it
	if len(g.got) == len(g.msg) {
		g.Transport().LoseConnection()
	}
}

func (g *exampleGreeter) ConnectionLost(reason error) {
	g.done <- fmt.Sprintf("%s (closed cleanly: %v)", g.got, errors.Is(reason, transport.ErrConnectionDone))
}

// exampleGreeterFactory is the client factory: one exampleGreeter per connection.
type exampleGreeterFactory struct {
	factory.ClientBase
	msg  string
	done chan string
}

func (f *exampleGreeterFactory) BuildProtocol(net.Addr) protocol.Protocol {
	return &exampleGreeter{msg: f.msg, done: f.done}
}

func (f *exampleGreeterFactory) ClientConnectionFailed(_ factory.Connector, reason error) {
	f.done <- "connect failed: " + reason.Error()
}

// An exampleEcho server on a loopback port the system picks, and a whirl client
// that connects to it with ConnectTCP, both on one reactor.
func Example() {
	r := reactor.New(reactor.WithLoops(2))
	port, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &exampleEcho{} }))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	done := make(chan string, 1)
	cf := &exampleGreeterFactory{msg: "hello, whirl", done: done}
	if _, err := r.ConnectTCP(ctx, port.Addr().String(), cf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-done)

	cancel() // Run stops the reactor gracefully and returns
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	s := r.Stats()
	fmt.Println("accepted:", s.Accepted, "connected:", s.Connected, "open:", s.ConnsOpen)
	// Output:
	// hello, whirl (closed cleanly: true)
	// accepted: 1 connected: 1 open: 0
}

// The same exampleEcho on a UNIX socket, with a client made from an endpoint
// string by Connect.
func Example_unix() {
	dir, err := os.MkdirTemp("", "whirl-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "exampleEcho.sock")

	r := reactor.New(reactor.WithLoops(1))
	if _, err := r.Listen("unix:"+path+":mode=600", factory.ForProtocol(func() protocol.Protocol { return &exampleEcho{} })); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	done := make(chan string, 1)
	if _, err := r.Connect(ctx, "unix:path="+path, &exampleGreeterFactory{msg: "over a UNIX socket", done: done}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-done)
	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	_, err = os.Stat(path)
	fmt.Println("socket file removed at stop:", errors.Is(err, os.ErrNotExist))
	// Output:
	// over a UNIX socket (closed cleanly: true)
	// socket file removed at stop: true
}

// exampleUDPEcho sends every datagram back to its sender.
type exampleUDPEcho struct{ protocol.DatagramBase }

func (e *exampleUDPEcho) DatagramReceived(data []byte, addr net.Addr) {
	_ = e.Transport().WriteTo(data, addr)
}

// A UDP exampleEcho, reached with a plain net.Conn.
func ExampleReactor_ListenUDP() {
	r := reactor.New(reactor.WithLoops(1))
	port, err := r.ListenUDP("127.0.0.1:0", &exampleUDPEcho{})
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

	c, err := net.Dial("udp", port.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	// UDP may drop a datagram: send again until the exampleEcho comes back.
	for try := 0; ; try++ {
		if _, err := c.Write([]byte("ping")); err != nil {
			log.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			fmt.Printf("%s\n", buf[:n])
			break
		}
		if try == 50 {
			log.Fatal(err)
		}
	}
	// Output:
	// ping
}

// DeferToGoroutine runs blocking calls on a pool of WithWorkers goroutines
// (by default 4 × GOMAXPROCS, at least 16). When all of them are busy, the
// next call waits for one to be free: the pool is for short calls.
func ExampleReactor_DeferToGoroutine() {
	workers := max(16, 4*runtime.GOMAXPROCS(0)) // the default pool size
	r := reactor.New(reactor.WithLoops(1))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	release := make(chan struct{})
	busy := make(chan struct{})
	for range workers { // fill the pool with calls that block
		r.DeferToGoroutine(func() (any, error) {
			busy <- struct{}{}
			<-release
			return nil, nil
		}, nil)
	}
	for range workers {
		<-busy
	}

	started := make(chan time.Time, 1)
	result := make(chan string, 1)
	r.DeferToGoroutine(func() (any, error) {
		started <- time.Now()
		return "done", nil
	}, func(v any, err error) { result <- fmt.Sprint(v, " ", err) }) // on loop 0

	select {
	case <-started:
		fmt.Println("the extra call ran at once")
	case <-time.After(100 * time.Millisecond):
		fmt.Println("the extra call waits: every worker is busy")
	}
	freed := time.Now()
	release <- struct{}{} // one worker is free again
	fmt.Println("it ran once a worker was free:", (<-started).After(freed))
	fmt.Println("then got:", <-result)

	close(release)
	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// the extra call waits: every worker is busy
	// it ran once a worker was free: true
	// then got: done <nil>
}
