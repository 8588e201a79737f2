package reactor

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
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

// tokenWriter echoes what it gets (lent Writes) while a goroutine of its
// own writes numbered tokens to the same connection, so that Writes from
// another goroutine race the lent ones.
type tokenWriter struct {
	protocol.Base
	started chan struct{}
}

func (p *tokenWriter) ConnectionMade() { close(p.started) }

func (p *tokenWriter) DataReceived(data []byte) { _, _ = p.Transport().Write(data) }

// TestLendRacesOtherWriters: the echo of letters (lent) and tokens "#N#"
// written from another goroutine share one connection. The client must see
// every token whole and in order, and, with the tokens taken out, exactly
// the letters it sent.
func TestLendRacesOtherWriters(t *testing.T) {
	const minTokens = 200
	r := New(WithLoops(1))
	pc := make(chan *tokenWriter, 1)
	p, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol {
		tw := &tokenWriter{started: make(chan struct{})}
		pc <- tw
		return tw
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
	tw := <-pc
	<-tw.started
	read := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(c); read <- b }()
	// Tokens are written all through the echo, a few microseconds apart.
	stop, wrote := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		defer func() { wrote <- n }()
		for ; n < minTokens || !closed(stop); n++ {
			if _, err := tw.Transport().Write([]byte("#" + strconv.Itoa(n) + "#")); err != nil {
				return
			}
			time.Sleep(5 * time.Microsecond)
		}
	}()
	letters := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 20000) // 520 KB
	for rest := letters; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)%1500)
		if _, err := c.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	close(stop)
	tokens := <-wrote
	time.Sleep(50 * time.Millisecond) // the last echoes
	tw.Transport().LoseConnection()
	got := <-read
	var plain []byte
	next := 0
	for i := 0; i < len(got); i++ {
		if got[i] != '#' {
			plain = append(plain, got[i])
			continue
		}
		end := bytes.IndexByte(got[i+1:], '#')
		if end < 0 {
			t.Fatalf("a token cut off at %d", i)
		}
		n, err := strconv.Atoi(string(got[i+1 : i+1+end]))
		if err != nil || n != next {
			t.Fatalf("token %q at %d, want #%d#: a Write was split or reordered", got[i:i+2+end], i, next)
		}
		next++
		i += end + 1
	}
	if next != tokens {
		t.Fatalf("%d tokens arrived, want %d", next, tokens)
	}
	if !bytes.Equal(plain, letters) {
		t.Fatalf("the echo differs from what was sent (%d bytes against %d, first difference at %d)", len(plain), len(letters), firstDiff(plain, letters))
	}
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
