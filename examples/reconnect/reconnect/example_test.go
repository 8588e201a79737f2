package reconnect_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/whirl-go/whirl/examples/reconnect/reconnect"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// exampleEcho sends back every line it receives.
type exampleEcho struct{ protocol.LineReceiver }

func (e *exampleEcho) LineReceived(line []byte) { _ = e.SendLine(line) }

// The client and a line echo on one reactor: a line sent with Send comes
// back to Received. The reactor's graceful stop is not retried.
func Example() {
	r := reactor.New(reactor.WithLoops(1))
	port, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &exampleEcho{} }))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	received := make(chan string, 1)
	f := &reconnect.Factory{Received: func(line []byte) { received <- string(bytes.Clone(line)) }}
	f.InitialDelay = 10 * time.Millisecond
	if _, err := reconnect.Connect(ctx, r, "tcp:"+port.Addr().String(), f); err != nil {
		log.Fatal(err)
	}
	for !f.Connected() { // Send works only while a connection is up
		time.Sleep(time.Millisecond)
	}
	if err := f.Send([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("received:", <-received)

	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	pending := 0
	for _, retry := range f.Backoff() {
		if retry.Pending {
			pending++
		}
	}
	fmt.Println("sessions:", f.Sessions(), "retries scheduled:", pending)
	// Output:
	// received: hello
	// sessions: 1 retries scheduled: 0
}
