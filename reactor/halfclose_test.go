package reactor_test

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// halfCloser is a protocol.HalfCloseable that records its callbacks, and
// checks they run on the goroutine of ConnectionMade (the connection's loop).
type halfCloser struct {
	protocol.Base
	made      chan transport.Transport
	lost      chan error
	readLost  chan struct{} // closed by ReadConnectionLost
	writeLost chan struct{} // closed by WriteConnectionLost
	onMade    func(h *halfCloser)
	onRead    func(h *halfCloser)

	loop                  uint64
	offLoop               atomic.Int32
	readLosts, writeLosts atomic.Int32

	mu  sync.Mutex
	got bytes.Buffer
}

func newHalfCloser() *halfCloser {
	return &halfCloser{
		made:      make(chan transport.Transport, 1),
		lost:      make(chan error, 2),
		readLost:  make(chan struct{}),
		writeLost: make(chan struct{}),
	}
}

var _ protocol.HalfCloseable = (*halfCloser)(nil)

func (h *halfCloser) onLoop() {
	if goid() != h.loop {
		h.offLoop.Add(1)
	}
}

func (h *halfCloser) ConnectionMade() {
	h.loop = goid()
	if h.onMade != nil {
		h.onMade(h)
	}
	h.made <- h.Transport()
}

func (h *halfCloser) DataReceived(data []byte) {
	h.onLoop()
	h.mu.Lock()
	h.got.Write(data)
	h.mu.Unlock()
}

func (h *halfCloser) received() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got.String()
}

func (h *halfCloser) ReadConnectionLost() {
	h.onLoop()
	if h.readLosts.Add(1) == 1 {
		close(h.readLost)
	}
	if h.onRead != nil {
		h.onRead(h)
	}
}

func (h *halfCloser) WriteConnectionLost() {
	h.onLoop()
	if h.writeLosts.Add(1) == 1 {
		close(h.writeLost)
	}
}

func (h *halfCloser) ConnectionLost(reason error) {
	h.onLoop()
	h.lost <- reason
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not called", what)
	}
}

// The peer half-closes: a HalfCloseable protocol gets ReadConnectionLost on
// its loop, still writes afterwards, and its LoseConnection then ends the
// connection cleanly; the client reads the reply, then EOF.
func TestHalfCloseablePeerFIN(t *testing.T) {
	h := newHalfCloser()
	h.onRead = func(h *halfCloser) {
		if got := h.received(); got != "hello" {
			h.Transport().Write([]byte("wrong: " + got))
		}
		// Still open for writing after ReadConnectionLost returned.
		h.Transport().Loop().CallLater(50*time.Millisecond, func() {
			if _, err := h.Transport().Write([]byte("reply")); err != nil {
				h.Transport().Write([]byte("write failed: " + err.Error()))
			}
			h.Transport().LoseConnection()
		})
	}
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return h }))
	running(t, r)
	c := dial(t, p)
	<-h.made
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, h.readLost, "ReadConnectionLost")
	if got := readEOF(t, c, 5*time.Second); string(got) != "reply" {
		t.Fatalf("client read %q, want \"reply\" then EOF", got)
	}
	reason := waitLost(t, h.lost, 5*time.Second)
	if !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
	if n := h.readLosts.Load(); n != 1 {
		t.Errorf("ReadConnectionLost called %d times", n)
	}
	if n := h.offLoop.Load(); n != 0 {
		t.Errorf("%d callbacks ran off the connection's loop", n)
	}
}

// LoseWriteConnection sends this side's FIN after the output: the client
// reads the data then EOF, can still send, and the server still receives;
// WriteConnectionLost is called once; writes fail with ErrClosed; the
// client's own FIN then ends the connection cleanly.
func TestLoseWriteConnection(t *testing.T) {
	for _, halfCloseable := range []bool{true, false} {
		name := "HalfCloseable"
		if !halfCloseable {
			name = "plain protocol"
		}
		t.Run(name, func(t *testing.T) {
			h := newHalfCloser()
			writeErr := make(chan error, 1)
			h.onMade = func(h *halfCloser) {
				tr := h.Transport()
				tr.Write([]byte("data"))
				tr.LoseWriteConnection()
				_, err := tr.Write([]byte("late"))
				writeErr <- err
			}
			var proto protocol.Protocol = h
			if !halfCloseable {
				proto = &notHalfCloseable{h: h}
			}
			r := reactor.New(reactor.WithLoops(2))
			p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return proto }))
			running(t, r)
			c := dial(t, p)
			tr := <-h.made
			if err := <-writeErr; !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after LoseWriteConnection (on the loop): %v, want ErrClosed", err)
			}
			if got := readEOF(t, c, 5*time.Second); string(got) != "data" {
				t.Fatalf("client read %q, want \"data\" then EOF", got)
			}
			if n, err := tr.Write([]byte("later")); n != 0 || !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after LoseWriteConnection: %d, %v; want 0, ErrClosed", n, err)
			}
			if halfCloseable {
				waitClosed(t, h.writeLost, "WriteConnectionLost")
			}
			// The read side is still open.
			if _, err := c.Write([]byte("more")); err != nil {
				t.Fatalf("client write after the server's FIN: %v", err)
			}
			for deadline := time.Now().Add(5 * time.Second); h.received() != "more"; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("server received %q, want \"more\"", h.received())
				}
			}
			select {
			case reason := <-h.lost:
				t.Fatalf("connection closed before the client's FIN: %v", reason)
			default:
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			reason := waitLost(t, h.lost, 5*time.Second)
			if !errors.Is(reason, transport.ErrConnectionDone) {
				t.Fatalf("reason %v, want ErrConnectionDone", reason)
			}
			if halfCloseable {
				if n := h.writeLosts.Load(); n != 1 {
					t.Errorf("WriteConnectionLost called %d times, want 1", n)
				}
				if n := h.readLosts.Load(); n != 1 {
					t.Errorf("ReadConnectionLost called %d times, want 1", n)
				}
			}
			if n := h.offLoop.Load(); n != 0 {
				t.Errorf("%d callbacks ran off the connection's loop", n)
			}
		})
	}
}

// notHalfCloseable runs a halfCloser without its HalfCloseable methods.
type notHalfCloseable struct {
	protocol.Base
	h *halfCloser
}

func (n *notHalfCloseable) ConnectionMade()             { protocol.MakeConnection(n.h, n.Transport()) }
func (n *notHalfCloseable) DataReceived(data []byte)    { n.h.DataReceived(data) }
func (n *notHalfCloseable) ConnectionLost(reason error) { n.h.ConnectionLost(reason) }

// LoseWriteConnection with output the peer has not taken yet: the FIN (and
// WriteConnectionLost) waits for the output, which arrives whole before the
// client's EOF.
func TestLoseWriteConnectionFlushesFirst(t *testing.T) {
	const size = 1 << 20
	h := newHalfCloser()
	h.onMade = func(h *halfCloser) {
		h.Transport().Write(pattern(0, size))
		h.Transport().LoseWriteConnection()
	}
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(64<<10))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return h }))
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(64 << 10)
	<-h.made
	time.Sleep(100 * time.Millisecond) // the client has not read yet
	select {
	case <-h.writeLost:
		t.Fatal("WriteConnectionLost before the output was sent")
	default:
	}
	if got := readEOF(t, c, 10*time.Second); !bytes.Equal(got, pattern(0, size)) {
		t.Fatalf("client read %d bytes (in order: %v), want %d then EOF", len(got), bytes.Equal(got, pattern(0, len(got))), size)
	}
	waitClosed(t, h.writeLost, "WriteConnectionLost")
	if _, err := c.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); h.received() != "more"; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("server received %q, want \"more\"", h.received())
		}
	}
	c.Close()
	if reason := waitLost(t, h.lost, 5*time.Second); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}
