package protocol_test

import (
	"errors"
	"fmt"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// Chat is a line protocol. The assertion below fails to compile if
// LineReceived is misspelt or has the wrong signature; without it, such a
// protocol is refused when its connection is made.
type Chat struct {
	protocol.LineReceiver
	said []string
}

var _ protocol.LineHandler = (*Chat)(nil)

func (c *Chat) LineReceived(line []byte) { c.said = append(c.said, string(line)) }

// Mute forgot LineReceived: it has LineRecieved instead.
type Mute struct{ protocol.LineReceiver }

func (m *Mute) LineRecieved(line []byte) {}

func ExampleLineHandler() {
	tr := transporttest.New()
	c := &Chat{}
	protocol.MakeConnection(c, tr)
	c.DataReceived([]byte("hello\r\nworld\r\n"))
	fmt.Printf("%q\n", c.said)

	// A protocol without LineReceived is refused before any data: its
	// transport is closed with CloseWithError, and the reactor logs why.
	tr = transporttest.New()
	protocol.MakeConnection(&Mute{}, tr)
	fmt.Println(tr.CloseError())
	fmt.Println(errors.Is(tr.CloseError(), protocol.ErrNoLineReceived))
	// Output:
	// ["hello" "world"]
	// protocol: line receiver without a LineReceived method: *protocol_test.Mute embeds LineReceiver but has no LineReceived(line []byte) method
	// true
}

// Slow hands each line to a worker and reads no further line until the
// worker is done: PauseProducing from LineReceived stops the delivery at
// once, even for lines already received, and pushes the peer back.
type Slow struct {
	protocol.LineReceiver
	jobs chan string
}

var (
	_ protocol.LineHandler = (*Slow)(nil)
	_ transport.Producer   = (*Slow)(nil) // the receiver is a producer, as in Twisted
)

func (s *Slow) LineReceived(line []byte) {
	s.PauseProducing()
	s.jobs <- string(line)
}

func ExampleLineReceiver_PauseProducing() {
	tr := transporttest.New()
	s := &Slow{jobs: make(chan string, 1)}
	protocol.MakeConnection(s, tr)

	s.DataReceived([]byte("a\r\nb\r\nc\r\n"))
	for range 3 {
		fmt.Println(<-s.jobs, "paused:", tr.Paused())
		// The worker is done: from any goroutine, ResumeProducing delivers
		// the next line on the connection's loop (here, the fake clock's).
		s.ResumeProducing()
		tr.Clock().Advance(0)
	}
	// Output:
	// a paused: true
	// b paused: true
	// c paused: true
}
