package reactor_test

import (
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// pausingLines pauses its transport (not itself) on its first line.
type pausingLines struct {
	protocol.LineReceiver
	mu    sync.Mutex
	lines []string
	tr    chan transport.Transport
}

func (p *pausingLines) LineReceived(line []byte) {
	p.mu.Lock()
	p.lines = append(p.lines, string(line))
	n := len(p.lines)
	p.mu.Unlock()
	if n == 1 {
		p.Transport().PauseProducing()
		p.tr <- p.Transport()
	}
}

func (p *pausingLines) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// TestTransportPauseStopsLinesMidChunk: a transport paused from LineReceived
// delivers no more lines of the same chunk; ResumeProducing from another
// goroutine delivers them (through protocol.ReadResumer) without any new
// data arriving.
func TestTransportPauseStopsLinesMidChunk(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	p := &pausingLines{tr: make(chan transport.Transport, 1)}
	port := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return p }))
	c := dial(t, port)
	if _, err := c.Write([]byte("a\r\nb\r\nc\r\n")); err != nil {
		t.Fatal(err)
	}
	tr := <-p.tr
	time.Sleep(50 * time.Millisecond)
	if got := p.got(); len(got) != 1 {
		t.Fatalf("paused: delivered %q, want only the first line", got)
	}
	tr.ResumeProducing()
	deadline := time.Now().Add(5 * time.Second)
	for len(p.got()) < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := p.got(); len(got) != 3 || got[1] != "b" || got[2] != "c" {
		t.Fatalf("resumed: delivered %q, want a b c", got)
	}
}
