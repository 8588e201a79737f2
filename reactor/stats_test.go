package reactor_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// statsProto echoes, aborts on "abort", complains on "bad".
type statsProto struct{ protocol.Base }

func (p *statsProto) DataReceived(data []byte) {
	switch string(data) {
	case "abort":
		p.Transport().AbortConnection()
	case "bad":
		p.Transport().CloseWithError(errBadInput)
	default:
		p.Transport().Write(data)
	}
}

// waitStats polls r.Stats until ok accepts it.
func waitStats(t *testing.T, r *reactor.Reactor, what string, ok func(reactor.Stats) bool) reactor.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := r.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: stats %+v", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStatsCounts(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	running(t, r)
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &statsProto{} }))
	refusing := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return nil }))

	const n, size = 5, 1000
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	var conns []net.Conn
	for range n {
		c := dial(t, p)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The loop counts a write after the system call returns: the client may
	// have read the echo a moment before, so wait for the counts.
	s := waitStats(t, r, "open", func(s reactor.Stats) bool { return s.ConnsOpen == n && s.BytesOut == n*size })
	if s.Accepted != n || s.BytesIn != n*size || s.Loops != 2 {
		t.Fatalf("after %d echoes of %d bytes: %+v", n, size, s)
	}
	// Two aborts, one protocol error, two clean closes by the client.
	for i, c := range conns {
		switch i {
		case 0, 1:
			c.Write([]byte("abort"))
		case 2:
			c.Write([]byte("bad"))
		default:
			c.Close()
		}
	}
	s = waitStats(t, r, "closed", func(s reactor.Stats) bool { return s.ConnsOpen == 0 })
	if s.Closed[reactor.ClosedAborted] != 2 || s.Closed[reactor.ClosedProtocolError] != 1 || s.Closed[reactor.ClosedDone] != 2 {
		t.Fatalf("close classes %v (%v)", s.Closed, reactor.CloseClasses())
	}
	// A refused connection.
	dial(t, refusing)
	s = waitStats(t, r, "refused", func(s reactor.Stats) bool { return s.Refused == 1 && s.ConnsOpen == 0 })
	if len(s.Ports) != 2 {
		t.Fatalf("ports %+v", s.Ports)
	}
	for _, ps := range s.Ports {
		want := int64(n)
		if ps.Addr == refusing.Addr().String() {
			want = 1
		}
		if ps.Accepted != want {
			t.Errorf("port %s accepted %d, want %d", ps.Addr, ps.Accepted, want)
		}
	}
	waitStats(t, r, "queue delay probes", func(s reactor.Stats) bool { return s.QueueDelay.Count >= 2 })
}

// selfProducingEcho echoes with its transport as its own producer, so a
// peer that does not read pauses it.
type selfProducingEcho struct{ protocol.Base }

func (e *selfProducingEcho) ConnectionMade() {
	_ = e.Transport().RegisterProducer(e.Transport(), true)
}
func (e *selfProducingEcho) DataReceived(data []byte) { e.Transport().Write(data) }

func TestStatsGauges(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &selfProducingEcho{} }))
	c := dial(t, p)
	// Send without reading until the server pauses reading this client.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		chunk := make([]byte, 64<<10)
		for ctx.Err() == nil {
			c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			c.Write(chunk)
		}
	}()
	s := waitStats(t, r, "paused with output held", func(s reactor.Stats) bool { return s.Paused == 1 && s.Buffered > 0 })
	if s.Buffered > 16<<20 {
		t.Fatalf("buffered %d", s.Buffered)
	}
	cancel()
	c.Close()
	waitStats(t, r, "gauges back to zero", func(s reactor.Stats) bool { return s.Paused == 0 && s.Buffered == 0 && s.ConnsOpen == 0 })
}

func TestCloseClassNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range reactor.CloseClasses() {
		name := c.String()
		if name == "" || name == "unknown" || seen[name] {
			t.Errorf("class %d named %q", c, name)
		}
		seen[name] = true
	}
}
