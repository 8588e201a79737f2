package reactor

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// lendProbe writes each chunk it gets three times: the chunk (lent: a slice
// of the loop's read buffer), a separator (which must take the lent bytes
// over, in order), and the chunk again (copied). It checks what was lent at
// each step and keeps every chunk it got, so the test can compute the
// stream it should read back.
type lendProbe struct {
	protocol.Base
	mu     sync.Mutex
	chunks [][]byte // a copy of every chunk, in order
	lent   int      // chunks whose first Write was lent
	wrong  []string // what was not as expected
	plain  bool     // echo each chunk once, nothing else
}

func (p *lendProbe) DataReceived(data []byte) {
	c := p.Transport().(*conn)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunks = append(p.chunks, bytes.Clone(data))
	_, _ = c.Write(data)
	c.mu.Lock()
	lent := c.lentLocked()
	c.mu.Unlock()
	if len(lent) == len(data) && &lent[0] == &data[0] {
		p.lent++
	}
	if p.plain {
		return
	}
	_, _ = c.Write([]byte("|"))
	c.mu.Lock()
	if l := c.lentLocked(); l != nil {
		p.wrong = append(p.wrong, "bytes still lent after a second Write")
	}
	c.mu.Unlock()
	_, _ = c.Write(data)
}

// expected is what the probe wrote: each chunk, "|", and the chunk again.
func (p *lendProbe) expected() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b []byte
	for _, c := range p.chunks {
		if p.plain {
			b = append(b, c...)
			continue
		}
		b = append(append(append(b, c...), '|'), c...)
	}
	return b
}

// runLendProbe sends input to a lendProbe server in pieces of size bytes,
// closes its side, reads everything back and returns it with the probe.
func runLendProbe(t *testing.T, opts []Option, plain bool, input []byte, piece int, readDelay time.Duration) ([]byte, *lendProbe) {
	t.Helper()
	r := New(append([]Option{WithLoops(1)}, opts...)...)
	probe := make(chan *lendProbe, 1)
	p, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol {
		lp := &lendProbe{plain: plain}
		probe <- lp
		return lp
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	c, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	read := make(chan []byte, 1)
	go func() {
		time.Sleep(readDelay) // let the server's output back up first
		b, _ := io.ReadAll(c)
		read <- b
	}()
	for len(input) > 0 {
		n := min(piece, len(input))
		if _, err := c.Write(input[:n]); err != nil {
			t.Fatal(err)
		}
		input = input[n:]
	}
	_ = c.(*net.TCPConn).CloseWrite()
	return <-read, <-probe
}

// TestLendKeepsOrder checks that a lent Write, a Write after it, and a copy
// leave in that order, chunk after chunk, and that the first Write of each
// chunk was lent.
func TestLendKeepsOrder(t *testing.T) {
	input := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	got, lp := runLendProbe(t, nil, false, input, 1000, 0)
	want := lp.expected()
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes back, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if lp.lent == 0 {
		t.Fatal("no Write was lent")
	}
	if len(lp.wrong) > 0 {
		t.Fatal(lp.wrong[0])
	}
}

// TestLendRefusedByKernel makes the kernel refuse lent bytes (a 16 KiB send
// buffer and a client that reads only after 200 ms, the server echoing each
// chunk with one Write, so the first refused Write is a lent one): what is
// refused is copied and sent in order with what follows.
func TestLendRefusedByKernel(t *testing.T) {
	input := bytes.Repeat([]byte("lent bytes, refused by the kernel. "), 30000) // 1 MiB
	got, lp := runLendProbe(t, []Option{WithWriteBufferSize(16 << 10)}, true, input, 64<<10, 200*time.Millisecond)
	want := lp.expected()
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes back, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if lp.lent == 0 {
		t.Fatal("no Write was lent")
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
