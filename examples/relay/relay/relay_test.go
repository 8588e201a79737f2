package relay_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/relay/relay"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/heaptest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// conn is one connection made through a Factory on an in-memory transport
// with a loop and clock of its own, as if every connection ran on its own
// loop.
type conn struct {
	p  *relay.Conn
	tr *transporttest.Transport
}

// newConn makes a connection through f. Any goroutine.
func newConn(f *relay.Factory) (conn, error) {
	p := f.BuildProtocol(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000})
	rc, ok := p.(*relay.Conn)
	if !ok {
		return conn{}, fmt.Errorf("BuildProtocol returned %T, want *relay.Conn", p)
	}
	tr := transporttest.New()
	protocol.MakeConnection(rc, tr)
	return conn{rc, tr}, nil
}

func connect(t *testing.T, f *relay.Factory) conn {
	t.Helper()
	c, err := newConn(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs what is scheduled on the connections' loops.
func run(cs ...conn) {
	for _, c := range cs {
		c.tr.Clock().Advance(0)
	}
}

// spliced reports whether c's transport has peer's transport as its
// streaming producer and reads (is not paused).
func spliced(c, peer conn) bool {
	p, streaming := c.tr.Producer()
	return p == transport.Producer(peer.tr) && streaming && !c.tr.Paused()
}

func TestFactoryPairs(t *testing.T) {
	f := &relay.Factory{}
	a := connect(t, f)
	if a.tr.Paused() || !f.Waiting() {
		t.Fatalf("first connection: paused %v, waiting %v; want reading and waiting", a.tr.Paused(), f.Waiting())
	}
	b := connect(t, f)
	if f.Waiting() || f.Pairs() != 1 {
		t.Fatalf("after the second: waiting %v, %d pairs; want none waiting, 1 pair", f.Waiting(), f.Pairs())
	}
	run(a, b)
	if !spliced(a, b) || !spliced(b, a) {
		t.Fatal("the first two connections are not spliced, each the other's producer")
	}
	c := connect(t, f)
	run(a, b, c)
	if p, _ := c.tr.Producer(); p != nil || !f.Waiting() {
		t.Errorf("third connection: producer %v, waiting %v; want none, waiting", p, f.Waiting())
	}

	msg := []byte("over the relay\x00\xff")
	for _, tt := range []struct {
		name     string
		from, to conn
	}{{"a to b", a, b}, {"b to a", b, a}} {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				tt.from.tr.Clear()
				tt.to.tr.Clear()
				for _, piece := range transporttest.Chunks(msg, size) {
					tt.from.p.DataReceived(piece)
				}
				if got := tt.to.tr.Value(); !bytes.Equal(got, msg) {
					t.Errorf("relayed %q, want %q", got, msg)
				}
				if got := tt.from.tr.Value(); len(got) != 0 {
					t.Errorf("the sender got %q back, want nothing", got)
				}
			})
		}
	}
	if got := c.tr.Value(); len(got) != 0 {
		t.Errorf("the waiting connection got %q, want nothing", got)
	}
}

func TestFactoryCloses(t *testing.T) {
	tests := []struct {
		name   string
		closer int // index of the side that goes
	}{{"first goes", 0}, {"second goes", 1}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &relay.Factory{}
			cs := []conn{connect(t, f), connect(t, f)}
			run(cs...)
			gone, other := cs[tt.closer], cs[1-tt.closer]
			gone.tr.LoseConnection()
			gone.p.ConnectionLost(transport.ErrConnectionDone)
			if other.tr.Connected() {
				t.Error("partner still connected after the other side was lost")
			}
			if other.tr.Aborted() {
				t.Error("partner aborted, want closed cleanly")
			}
			other.p.ConnectionLost(transport.ErrConnectionDone)
			if f.Waiting() {
				t.Error("a closed pair left a connection waiting")
			}
		})
	}
}

// TestFactoryEarlyData sends data on the waiting connection before its
// partner arrives: it is relayed first, in order, and a connection that
// sends more than MaxEarly is paused until then.
func TestFactoryEarlyData(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		wantPaused bool
	}{
		{"a little", 100, false},
		{"one short of MaxEarly", relay.MaxEarly - 1, false},
		{"MaxEarly", relay.MaxEarly, true},
		{"more", relay.MaxEarly + 5000, true},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 2, 3, 0, 4096} {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				f := &relay.Factory{}
				a := connect(t, f)
				early := make([]byte, tt.n)
				fill(early, 7, 0)
				for _, piece := range transporttest.Chunks(early, size) {
					a.p.DataReceived(piece)
				}
				if got := a.tr.Paused(); got != tt.wantPaused {
					t.Errorf("after %d early bytes: paused %v, want %v", tt.n, got, tt.wantPaused)
				}
				b := connect(t, f)
				if got := b.tr.Value(); len(got) != 0 {
					t.Fatalf("partner got %d bytes before the splice ran, want none", len(got))
				}
				run(a, b)
				if a.tr.Paused() {
					t.Error("still paused after the pair joined")
				}
				late := make([]byte, 300)
				fill(late, 7, int64(tt.n))
				a.p.DataReceived(late)
				got := b.tr.Value()
				if len(got) != tt.n+len(late) {
					t.Fatalf("partner got %d bytes, want %d", len(got), tt.n+len(late))
				}
				if err := check(got, 7, 0); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// TestFactoryDataBetweenSpliceAndJoin delivers data to the waiting side after
// Splice resumed it but before the pair joined on its loop: it must follow
// the early data, not overtake it nor be lost.
func TestFactoryDataBetweenSpliceAndJoin(t *testing.T) {
	tests := []struct {
		name    string
		between int
	}{
		{"a little", 8},
		{"MaxEarly", relay.MaxEarly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &relay.Factory{}
			a := connect(t, f)
			early := make([]byte, 6)
			fill(early, 2, 0)
			a.p.DataReceived(early)
			b := connect(t, f)
			// a's loop has Splice's part, then the join: hold the join back.
			calls := a.tr.Clock().Calls()
			if len(calls) != 2 {
				t.Fatalf("%d calls pending on the waiting side's loop, want 2 (Splice's part, the join)", len(calls))
			}
			if err := calls[1].Reset(time.Second); err != nil {
				t.Fatal(err)
			}
			a.tr.Clock().Advance(0)
			if a.tr.Paused() {
				t.Fatal("paused after Splice's part ran, want reading")
			}
			between := make([]byte, tt.between)
			fill(between, 2, int64(len(early)))
			a.p.DataReceived(between)
			if got := b.tr.Value(); len(got) != 0 {
				t.Fatalf("partner got %d bytes before the join, want none", len(got))
			}
			if got, want := a.tr.Paused(), tt.between >= relay.MaxEarly; got != want {
				t.Errorf("before the join: paused %v, want %v", got, want)
			}
			a.tr.Clock().Advance(time.Second)
			run(a, b)
			if a.tr.Paused() {
				t.Error("paused after the join, want reading")
			}
			late := make([]byte, 4)
			fill(late, 2, int64(len(early)+len(between)))
			a.p.DataReceived(late)
			got := b.tr.Value()
			if want := len(early) + len(between) + len(late); len(got) != want {
				t.Fatalf("partner got %d bytes, want %d", len(got), want)
			}
			if err := check(got, 2, 0); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFactoryLostBeforeSplice loses the first connection of a pair after the
// second's loop finished its part of the splice but before the first's loop
// did: the partner must still be closed.
func TestFactoryLostBeforeSplice(t *testing.T) {
	f := &relay.Factory{}
	a, b := connect(t, f), connect(t, f)
	run(b) // b found a connected and reads
	a.tr.LoseConnection()
	a.p.ConnectionLost(transport.ErrConnectionDone)
	run(a)
	if b.tr.Connected() {
		t.Error("b still connected after a was lost before its side of the splice ran")
	}
}

func TestFactoryWaitingLeaves(t *testing.T) {
	f := &relay.Factory{}
	a := connect(t, f)
	a.tr.LoseConnection()
	a.p.ConnectionLost(transport.ErrConnectionDone)
	if f.Waiting() {
		t.Fatal("a waiting connection that was lost still holds the slot")
	}
	b := connect(t, f)
	run(a, b)
	if !f.Waiting() || f.Pairs() != 0 || !b.tr.Connected() {
		t.Fatalf("after a was lost: waiting %v, %d pairs, b connected %v; want b waiting alone", f.Waiting(), f.Pairs(), b.tr.Connected())
	}
	if p, _ := b.tr.Producer(); p != nil {
		t.Errorf("b has producer %v, want none", p)
	}
	c := connect(t, f)
	run(b, c)
	if !spliced(b, c) || !spliced(c, b) || f.Pairs() != 1 {
		t.Errorf("b and c not spliced (%d pairs)", f.Pairs())
	}
}

// TestFactorySkipsClosingWaiting checks that a waiting connection already
// closing, whose ConnectionLost has not run yet, is not given a partner.
func TestFactorySkipsClosingWaiting(t *testing.T) {
	f := &relay.Factory{}
	a := connect(t, f)
	a.tr.LoseConnection()
	b := connect(t, f)
	run(a, b)
	if !f.Waiting() || f.Pairs() != 0 || !b.tr.Connected() {
		t.Fatalf("waiting %v, %d pairs, b connected %v; want b waiting", f.Waiting(), f.Pairs(), b.tr.Connected())
	}
	if p, _ := b.tr.Producer(); p != nil {
		t.Errorf("b has producer %v, want none: it was paired with a closing connection", p)
	}
	a.p.ConnectionLost(transport.ErrConnectionDone)
	if !f.Waiting() {
		t.Error("losing the passed-over connection freed b's slot")
	}
	if !b.tr.Connected() {
		t.Error("losing the passed-over connection closed b")
	}
}

// TestFactoryConcurrent makes connections from many goroutines at once, as
// the loops of a reactor do.
func TestFactoryConcurrent(t *testing.T) {
	const n = 64
	f := &relay.Factory{}
	conns := make([]conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { conns[i], errs[i] = newConn(f) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	run(conns...)
	if f.Pairs() != n/2 || f.Waiting() {
		t.Fatalf("%d pairs, waiting %v; want %d pairs, none waiting", f.Pairs(), f.Waiting(), n/2)
	}
	partners := map[*transporttest.Transport]*transporttest.Transport{}
	for _, c := range conns {
		p, _ := c.tr.Producer()
		peer, ok := p.(*transporttest.Transport)
		if !ok || c.tr.Paused() {
			t.Fatalf("a connection has producer %v, paused %v; want its partner, reading", p, c.tr.Paused())
		}
		partners[c.tr] = peer
	}
	for a, b := range partners {
		if partners[b] != a || a == b {
			t.Fatal("partners are not paired both ways")
		}
	}
}

func TestFactoryBuildsConns(t *testing.T) {
	f := &relay.Factory{}
	p1, p2 := f.BuildProtocol(nil), f.BuildProtocol(nil)
	if _, ok := p1.(*relay.Conn); !ok {
		t.Fatalf("BuildProtocol = %T, want *relay.Conn", p1)
	}
	if p1 == p2 {
		t.Error("BuildProtocol returned the same protocol twice, want one per connection")
	}
	if f.Waiting() || f.Pairs() != 0 {
		t.Error("building protocols paired them, want pairing only when connections are made")
	}
}

func Example() {
	f := &relay.Factory{}
	alice := f.BuildProtocol(nil)
	bob := f.BuildProtocol(nil)
	ta, tb := transporttest.New(), transporttest.New()
	protocol.MakeConnection(alice, ta)
	fmt.Println("waiting:", f.Waiting())
	protocol.MakeConnection(bob, tb)
	fmt.Println("waiting:", f.Waiting(), "pairs:", f.Pairs())
	ta.Clock().Advance(0) // the splice runs on each connection's loop
	tb.Clock().Advance(0)
	alice.DataReceived([]byte("hi bob"))
	bob.DataReceived([]byte("hi alice"))
	fmt.Printf("bob got %q, alice got %q\n", tb.Value(), ta.Value())
	// Output:
	// waiting: true
	// waiting: false pairs: 1
	// bob got "hi bob", alice got "hi alice"
}

// Integration tests: a reactor on 127.0.0.1 and real clients.

// fill writes the bytes at stream offsets off.. of the pattern with the
// given seed into b: each byte depends on its position, so a lost, repeated
// or reordered piece shows.
func fill(b []byte, seed byte, off int64) {
	for i := range b {
		x := uint64(off) + uint64(i)
		b[i] = byte(x^x>>8^x>>16^x>>24) ^ seed
	}
}

// check reports the first byte of b that is not the pattern's.
func check(b []byte, seed byte, off int64) error {
	for i, got := range b {
		x := uint64(off) + uint64(i)
		if want := byte(x^x>>8^x>>16^x>>24) ^ seed; got != want {
			return fmt.Errorf("byte %d is %#x, want %#x", off+int64(i), got, want)
		}
	}
	return nil
}

const ioChunk = 64 << 10

// send writes total pattern bytes to c with one fixed buffer.
func send(c net.Conn, seed byte, total int64) error {
	buf := make([]byte, ioChunk)
	for off := int64(0); off < total; {
		n := int(min(int64(len(buf)), total-off))
		fill(buf[:n], seed, off)
		if _, err := c.Write(buf[:n]); err != nil {
			return fmt.Errorf("write at %d of %d: %w", off, total, err)
		}
		off += int64(n)
	}
	return nil
}

// receive reads total pattern bytes from c with one fixed buffer, at most
// rate bytes per second (0: as fast as they come), and checks them. With eof
// it then expects the end of the stream.
func receive(c net.Conn, seed byte, total, rate int64, eof bool) error {
	buf := make([]byte, ioChunk)
	start := time.Now()
	for off := int64(0); off < total; {
		n, err := c.Read(buf[:min(int64(len(buf)), total-off)])
		if cerr := check(buf[:n], seed, off); cerr != nil {
			return cerr
		}
		off += int64(n)
		if err != nil {
			return fmt.Errorf("read after %d of %d bytes: %w", off, total, err)
		}
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(off * int64(time.Second) / rate))))
		}
	}
	if eof {
		if n, err := c.Read(buf[:1]); err != io.EOF {
			return fmt.Errorf("read after all %d bytes = %d, %v; want EOF", total, n, err)
		}
	}
	return nil
}

// server runs a relay on 127.0.0.1 with the given number of loops until the
// test ends.
func server(t testing.TB, loops int) (*relay.Factory, string) {
	t.Helper()
	r := reactor.New(reactor.WithLoops(loops))
	f := &relay.Factory{}
	port, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	reactortest.Run(t, r)
	return f, port.Addr().String()
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pair connects a, waits until the server holds it waiting, then connects b
// and waits until the two are paired.
func pair(t testing.TB, f *relay.Factory, addr string) (a, b net.Conn) {
	t.Helper()
	pairs := f.Pairs()
	a = dial(t, addr)
	waitFor(t, "the first connection to wait", f.Waiting)
	b = dial(t, addr)
	waitFor(t, "the pair", func() bool { return f.Pairs() == pairs+1 })
	return a, b
}

// deadline sets a deadline on each conn that a transfer of total bytes at
// rate (0: fast) meets with a wide margin, so a stuck test ends by itself.
func deadline(t testing.TB, total, rate int64, conns ...net.Conn) {
	t.Helper()
	d := 30 * time.Second
	if rate > 0 {
		d += 2 * time.Duration(total*int64(time.Second)/rate)
	}
	for _, c := range conns {
		if err := c.SetDeadline(time.Now().Add(d)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRelayFlatMemory pushes a stream through the relay to a client that
// reads at a fixed rate: every byte must arrive in order while the heap of
// the process (server and clients) stays flat.
func TestRelayFlatMemory(t *testing.T) {
	const maxGrowth = 16 << 20
	tests := []struct {
		name        string
		total, rate int64
		long        bool
	}{
		{"16MiB at 16MiB/s", 16 << 20, 16 << 20, false},
		{"128MiB at 8MiB/s", 128 << 20, 8 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.long && testing.Short() {
				t.Skip("takes about 16 s; skipped with -short")
			}
			f, addr := server(t, 2)
			a, b := pair(t, f, addr)
			deadline(t, tt.total, tt.rate, a, b)

			stop := heaptest.Watch()
			start := time.Now()
			sent := make(chan error, 1)
			go func() { sent <- send(a, 0, tt.total) }()
			err := receive(b, 0, tt.total, tt.rate, false)
			elapsed := time.Since(start)
			growth := stop()
			if err != nil {
				t.Fatalf("receiving: %v", err)
			}
			if err := <-sent; err != nil {
				t.Fatalf("sending: %v", err)
			}
			t.Logf("%d MiB in %v (%.1f MiB/s); heap peak growth %.2f MiB",
				tt.total>>20, elapsed.Round(time.Millisecond), float64(tt.total)/(1<<20)/elapsed.Seconds(), float64(growth)/(1<<20))
			if growth > maxGrowth {
				t.Errorf("heap grew by %.1f MiB during the transfer, want less than %d MiB", float64(growth)/(1<<20), maxGrowth>>20)
			}
		})
	}
}

// TestRelayBothWays sends a stream each way at once.
func TestRelayBothWays(t *testing.T) {
	const total = 16 << 20
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("loops=%d", loops), func(t *testing.T) {
			f, addr := server(t, loops)
			a, b := pair(t, f, addr)
			deadline(t, total, 0, a, b)
			if err := bothWays(a, b, total); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRelayClose closes one side after it sent a stream: the other reads it
// all, then the end of the stream.
func TestRelayClose(t *testing.T) {
	const total = 8 << 20
	tests := []struct {
		name   string
		closer int // 0: the first connection, 1: the second
		rate   int64
	}{
		{"first closes", 0, 0},
		{"second closes", 1, 0},
		{"first closes, slow reader", 0, 16 << 20},
		{"second closes, slow reader", 1, 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, addr := server(t, 2)
			a, b := pair(t, f, addr)
			conns := []net.Conn{a, b}
			closer, other := conns[tt.closer], conns[1-tt.closer]
			deadline(t, total, tt.rate, a, b)
			sent := make(chan error, 1)
			go func() {
				err := send(closer, 0, total)
				closer.Close()
				sent <- err
			}()
			if err := receive(other, 0, total, tt.rate, true); err != nil {
				t.Error(err)
			}
			if err := <-sent; err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRelayWaitingLeaves closes the waiting connection before a partner
// arrives: the next two connections pair with each other.
func TestRelayWaitingLeaves(t *testing.T) {
	f, addr := server(t, 2)
	lone := dial(t, addr)
	waitFor(t, "the first connection to wait", f.Waiting)
	lone.Close()
	waitFor(t, "the closed connection to leave", func() bool { return !f.Waiting() })
	a, b := pair(t, f, addr)
	deadline(t, 1<<20, 0, a, b)
	errs := make(chan error, 1)
	go func() { errs <- send(a, 0, 1<<20) }()
	if err := receive(b, 0, 1<<20, 0, false); err != nil {
		t.Error(err)
	}
	if err := <-errs; err != nil {
		t.Error(err)
	}
}

// TestRelayOddOneOut connects three clients: the third waits, and what it
// sends meanwhile reaches the fourth once it arrives.
func TestRelayOddOneOut(t *testing.T) {
	const early = 256 << 10
	f, addr := server(t, 2)
	a, b := pair(t, f, addr)
	c := dial(t, addr)
	waitFor(t, "the third connection to wait", f.Waiting)
	deadline(t, early, 0, a, b, c)
	// The waiting connection reads nothing: its bytes wait in the kernel.
	sent := make(chan error, 1)
	go func() { sent <- send(c, 0x3c, early) }()
	if err := a.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the first client read %d, %v from the relay; want nothing", n, err)
	}
	deadline(t, early, 0, a)
	d := dial(t, addr)
	waitFor(t, "the second pair", func() bool { return f.Pairs() == 2 })
	deadline(t, early, 0, c, d)
	if err := receive(d, 0x3c, early, 0, false); err != nil {
		t.Error(err)
	}
	if err := <-sent; err != nil {
		t.Error(err)
	}
	// The first pair still works.
	go func() { sent <- send(b, 0, 4096) }()
	if err := receive(a, 0, 4096, 0, false); err != nil {
		t.Error(err)
	}
	if err := <-sent; err != nil {
		t.Error(err)
	}
}

// stall blocks the reactor's loop 0 for d, as a slow callback of some other
// connection on that loop would.
func stall(t testing.TB, r *reactor.Reactor, d time.Duration) {
	t.Helper()
	if err := r.CallFromGoroutine(func() { time.Sleep(d) }); err != nil {
		t.Fatal(err)
	}
}

// bothWays sends total bytes each way between a and b at once and reads them
// at full speed, and returns the first error.
func bothWays(a, b net.Conn, total int64) error {
	errs := make(chan error, 4)
	start := func(what string, fn func() error) {
		go func() {
			if err := fn(); err != nil {
				errs <- fmt.Errorf("%s: %w", what, err)
				return
			}
			errs <- nil
		}()
	}
	// Different seeds: bytes sent back to their sender would not pass.
	start("first sends", func() error { return send(a, 0, total) })
	start("second sends", func() error { return send(b, 0xa5, total) })
	start("second receives", func() error { return receive(b, 0, total, 0, false) })
	start("first receives", func() error { return receive(a, 0xa5, total, 0, false) })
	var first error
	for range 4 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TestRelayStalledLoop blocks the loop of one connection of a pair for half
// a second while both send: the other, on the second loop, must not fill the
// stalled connection's output meanwhile.
func TestRelayStalledLoop(t *testing.T) {
	const total = 64 << 20
	r := reactor.New(reactor.WithLoops(2))
	f := &relay.Factory{}
	port, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		t.Fatal(err)
	}
	reactortest.Run(t, r)
	a, b := pair(t, f, port.Addr().String())
	deadline(t, total, 0, a, b)
	stop := heaptest.Watch()
	stall(t, r, 500*time.Millisecond)
	err = bothWays(a, b, total)
	growth := stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heap peak growth %.2f MiB", float64(growth)/(1<<20))
	if growth > 8<<20 {
		t.Errorf("heap grew by %.1f MiB while a loop stalled, want less than 8 MiB", float64(growth)/(1<<20))
	}
}

// barePairs pairs connections two by two with bare protocol.Relay values and
// protocol.Splice, with none of Conn's early-byte handling.
type barePairs struct {
	factory.Base
	mu      sync.Mutex
	waiting *protocol.Relay
	pairs   int
}

func (f *barePairs) BuildProtocol(net.Addr) protocol.Protocol { return &bareRelay{f: f} }

func (f *barePairs) state() (waiting bool, pairs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting != nil, f.pairs
}

type bareRelay struct {
	protocol.Relay
	f *barePairs
}

func (r *bareRelay) ConnectionMade() {
	r.Relay.ConnectionMade()
	r.f.mu.Lock()
	w := r.f.waiting
	if w == nil {
		r.f.waiting = &r.Relay
		r.f.mu.Unlock()
		return
	}
	r.f.waiting = nil
	r.f.pairs++
	r.f.mu.Unlock()
	protocol.Splice(w, &r.Relay)
}

// TestSpliceStalledLoop is TestRelayStalledLoop with bare protocol.Relay and
// protocol.Splice: while the partner's loop is stalled, the relay on the
// running loop must be paused by its own writes passing the partner's high
// watermark, not left to fill the partner's output up to the write-buffer cap.
func TestSpliceStalledLoop(t *testing.T) {
	const total = 64 << 20
	r := reactor.New(reactor.WithLoops(2))
	f := &barePairs{}
	port, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		t.Fatal(err)
	}
	reactortest.Run(t, r)
	a := dial(t, port.Addr().String())
	waitFor(t, "the first connection to wait", func() bool { w, _ := f.state(); return w })
	b := dial(t, port.Addr().String())
	waitFor(t, "the pair", func() bool { _, n := f.state(); return n == 1 })
	deadline(t, total, 0, a, b)
	stop := heaptest.Watch()
	stall(t, r, 500*time.Millisecond)
	err = bothWays(a, b, total)
	growth := stop()
	if err != nil {
		t.Fatal(err)
	}
	if growth > 8<<20 {
		t.Errorf("heap grew by %.1f MiB while a loop stalled, want less than 8 MiB", float64(growth)/(1<<20))
	}
}

// BenchmarkRelay pushes a stream from one client to the other as fast as
// they go.
func BenchmarkRelay(b *testing.B) {
	const total = 64 << 20
	f, addr := server(b, 2)
	x, y := pair(b, f, addr)
	b.ReportAllocs()
	b.SetBytes(total)
	for b.Loop() {
		deadline(b, total, 0, x, y)
		sent := make(chan error, 1)
		go func() { sent <- send(x, 0, total) }()
		if err := receive(y, 0, total, 0, false); err != nil {
			b.Fatal(err)
		}
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
	}
}
