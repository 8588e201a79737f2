package reactor_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

var errBadInput = errors.New("bad input from the peer")

// complainer answers its first data with a message and CloseWithError.
type complainer struct {
	protocol.Base
	lost chan error
}

func (c *complainer) DataReceived([]byte) {
	c.Transport().Write([]byte("ERR bad input\r\n"))
	c.Transport().CloseWithError(errBadInput)
	c.Transport().CloseWithError(errors.New("second call is ignored"))
}

func (c *complainer) ConnectionLost(reason error) { c.lost <- reason }

func TestCloseWithErrorFlushesLogsAndReports(t *testing.T) {
	logs := &syncBuffer{}
	r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(zerolog.New(logs).Level(zerolog.InfoLevel)))
	running(t, r)
	lost := make(chan error, 1)
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &complainer{lost: lost} }))
	c := dial(t, p)
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c) // the message, then a clean EOF (not a reset)
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, got)
	}
	if string(got) != "ERR bad input\r\n" {
		t.Fatalf("peer got %q", got)
	}
	select {
	case reason := <-lost:
		if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, errBadInput) {
			t.Fatalf("reason %v: want ErrConnectionAborted and errBadInput", reason)
		}
		if errors.Is(reason, transport.ErrConnectionDone) {
			t.Fatalf("reason %v matches ErrConnectionDone", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ConnectionLost not called")
	}
	var warn []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"warn"`) {
			warn = append(warn, l)
		}
	}
	if len(warn) != 1 || !strings.Contains(warn[0], errBadInput.Error()) || !strings.Contains(warn[0], c.LocalAddr().String()) {
		t.Fatalf("want one warn line naming the reason and the peer, got %q", warn)
	}
}

// TestCloseWithErrorNilIsLoseConnection: a nil error closes cleanly, with
// no warning.
func TestCloseWithErrorNil(t *testing.T) {
	var buf bytes.Buffer
	r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(zerolog.New(&buf).Level(zerolog.WarnLevel)))
	running(t, r)
	lost := make(chan error, 1)
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol {
		return &closeNil{lost: lost}
	}))
	c := dial(t, p)
	defer c.Close()
	_, _ = c.Write([]byte("x"))
	select {
	case reason := <-lost:
		if !errors.Is(reason, transport.ErrConnectionDone) {
			t.Fatalf("reason %v, want ErrConnectionDone", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ConnectionLost not called")
	}
	if err := r.Stop(backgroundContext()); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("logged %q", buf.String())
	}
}

type closeNil struct {
	protocol.Base
	lost chan error
}

func (c *closeNil) DataReceived([]byte)         { c.Transport().CloseWithError(nil) }
func (c *closeNil) ConnectionLost(reason error) { c.lost <- reason }

// stuckComplainer closes with an error while its peer does not read, then
// aborts: the reason stays the error's.
type stuckComplainer struct {
	protocol.Base
	lost chan error
}

func (c *stuckComplainer) ConnectionMade() {
	big := make([]byte, 8<<20)
	c.Transport().Write(big) // more than the kernel takes: the drain waits
	c.Transport().CloseWithError(errBadInput)
	c.Transport().AbortConnection()
}

func (c *stuckComplainer) ConnectionLost(reason error) { c.lost <- reason }

func TestAbortDuringCloseWithErrorKeepsReason(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	lost := make(chan error, 1)
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &stuckComplainer{lost: lost} }))
	dial(t, p)
	select {
	case reason := <-lost:
		if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, errBadInput) {
			t.Fatalf("reason %v: want ErrConnectionAborted and errBadInput", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ConnectionLost not called")
	}
}
