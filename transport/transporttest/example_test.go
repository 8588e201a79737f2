package transporttest_test

import (
	"fmt"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// echo writes back what it receives and hangs up after 30 seconds without
// input.
type echo struct {
	protocol.Base
	idle transport.DelayedCall
}

func (e *echo) ConnectionMade() {
	e.idle = e.Transport().Loop().CallLater(30*time.Second, func() {
		fmt.Println("idle timeout")
		e.Transport().LoseConnection()
	})
}

func (e *echo) DataReceived(data []byte) {
	_ = e.idle.Reset(30 * time.Second)
	_, _ = e.Transport().Write(data)
}

func Example() {
	tr := transporttest.New()
	p := &echo{}
	protocol.MakeConnection(p, tr)

	// Feed the input one byte at a time, as a slow network would.
	for _, piece := range transporttest.Chunks([]byte("hello"), 1) {
		p.DataReceived(piece)
	}
	fmt.Printf("wrote %q\n", tr.Value())
	tr.Clear()

	tr.Clock().Advance(20 * time.Second)
	p.DataReceived([]byte("still here"))
	tr.Clock().Advance(20 * time.Second) // 20 s since the last input
	fmt.Printf("wrote %q, connected: %v\n", tr.Value(), tr.Connected())

	tr.Clock().Advance(10 * time.Second) // 30 s since the last input
	fmt.Println("connected:", tr.Connected())
	// Output:
	// wrote "hello"
	// wrote "still here", connected: true
	// idle timeout
	// connected: false
}
