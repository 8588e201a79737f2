package reactor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// recorder reports its callbacks on channels.
type recorder struct {
	protocol.Base
	made   chan transport.Transport
	lost   chan error
	onData func(p *recorder, data []byte)
}

func (p *recorder) ConnectionMade() { p.made <- p.Transport() }
func (p *recorder) DataReceived(data []byte) {
	if p.onData != nil {
		p.onData(p, data)
	}
}
func (p *recorder) ConnectionLost(reason error) { p.lost <- reason }

type recorderFactory struct {
	factory.Base
	made   chan transport.Transport
	lost   chan error
	onData func(p *recorder, data []byte)
}

func newRecorderFactory(onData func(*recorder, []byte)) *recorderFactory {
	return &recorderFactory{made: make(chan transport.Transport, 128), lost: make(chan error, 128), onData: onData}
}

func (f *recorderFactory) BuildProtocol(net.Addr) protocol.Protocol {
	return &recorder{made: f.made, lost: f.lost, onData: f.onData}
}

func (f *recorderFactory) transport(t *testing.T) transport.Transport {
	t.Helper()
	select {
	case tr := <-f.made:
		return tr
	case <-time.After(5 * time.Second):
		t.Fatal("ConnectionMade not called")
		return nil
	}
}

// reason waits for ConnectionLost and checks it is not called twice.
func (f *recorderFactory) reason(t *testing.T) error {
	t.Helper()
	var reason error
	select {
	case reason = <-f.lost:
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectionLost not called")
	}
	if reason == nil {
		t.Fatal("ConnectionLost(nil)")
	}
	select {
	case again := <-f.lost:
		t.Fatalf("ConnectionLost called twice: %v, then %v", reason, again)
	case <-time.After(50 * time.Millisecond):
	}
	return reason
}

func TestConnectionLostReasons(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, c *net.TCPConn, tr transport.Transport)
		want error
		eof  bool // the client sees a clean EOF
	}{
		{"client close", func(t *testing.T, c *net.TCPConn, tr transport.Transport) { c.Close() }, transport.ErrConnectionDone, false},
		{"client half-close", func(t *testing.T, c *net.TCPConn, tr transport.Transport) { c.CloseWrite() }, transport.ErrConnectionDone, true},
		{"server LoseConnection", func(t *testing.T, c *net.TCPConn, tr transport.Transport) { tr.LoseConnection() }, transport.ErrConnectionDone, true},
		{"server AbortConnection", func(t *testing.T, c *net.TCPConn, tr transport.Transport) { tr.AbortConnection() }, transport.ErrConnectionAborted, false},
		{"peer reset", func(t *testing.T, c *net.TCPConn, tr transport.Transport) {
			c.SetLinger(0)
			c.Close()
		}, transport.ErrConnectionLost, false},
	}
	r := reactor.New(reactor.WithLoops(2))
	f := newRecorderFactory(nil)
	p := listen(t, r, f)
	running(t, r)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, p)
			tr := f.transport(t)
			if !tr.Connected() || tr.Disconnecting() {
				t.Fatalf("Connected()=%v Disconnecting()=%v on a new connection", tr.Connected(), tr.Disconnecting())
			}
			local, remote := tr.LocalAddr().String(), tr.RemoteAddr().String()
			if remote != c.LocalAddr().String() || local != c.RemoteAddr().String() {
				t.Fatalf("addresses: transport %s<-%s, client %s->%s", local, remote, c.LocalAddr(), c.RemoteAddr())
			}
			tt.act(t, c, tr)
			reason := f.reason(t)
			if !errors.Is(reason, tt.want) {
				t.Fatalf("reason %v, want errors.Is %v", reason, tt.want)
			}
			if tr.Connected() || !tr.Disconnecting() {
				t.Errorf("after close: Connected()=%v Disconnecting()=%v", tr.Connected(), tr.Disconnecting())
			}
			if tr.RemoteAddr().String() != remote || tr.LocalAddr().String() != local {
				t.Errorf("addresses changed after close: %v %v", tr.LocalAddr(), tr.RemoteAddr())
			}
			if n, err := tr.Write([]byte("late")); n != 0 || !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after close = %d, %v; want 0, ErrClosed", n, err)
			}
			if err := tr.SetTCPNoDelay(true); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("SetTCPNoDelay after close = %v, want ErrClosed", err)
			}
			if tt.eof {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadAll(c); err != nil {
					t.Errorf("client read after server close: %v, want EOF", err)
				}
			}
		})
	}
}

func TestConnectionLostOnStop(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	f := newRecorderFactory(nil)
	p := listen(t, r, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	c := dial(t, p)
	f.transport(t)
	cancel()
	if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason on stop: %v, want ErrConnectionDone", reason)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("client read after stop: %v, want EOF", err)
	}
}

func TestRefusedConnection(t *testing.T) {
	var built atomic.Int32
	f := factory.ForProtocol(func() protocol.Protocol { built.Add(1); return nil })
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("refused connection stayed open")
	}
	if built.Load() != 1 {
		t.Fatalf("BuildProtocol called %d times, want 1", built.Load())
	}
}

// countingFactory checks Twisted's ref-counting of StartFactory/StopFactory.
type countingFactory struct {
	mu                 sync.Mutex
	starts, stops      int
	builtBeforeStart   bool
	started            bool
	onStart, onStop    func()
	protocolsBuiltLive int
}

func (f *countingFactory) StartFactory() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	f.started = true
}

func (f *countingFactory) StopFactory() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.started = false
}

func (f *countingFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.builtBeforeStart = true
	}
	return &echo{}
}

func (f *countingFactory) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts, f.stops
}

func TestFactoryRefCount(t *testing.T) {
	for _, order := range []string{"first-first", "last-first"} {
		t.Run(order, func(t *testing.T) {
			f := &countingFactory{}
			r := reactor.New(reactor.WithLoops(2))
			running(t, r)
			p1 := listen(t, r, f)
			if s, e := f.counts(); s != 1 || e != 0 {
				t.Fatalf("after first port: starts=%d stops=%d, want 1 0", s, e)
			}
			p2 := listen(t, r, f)
			if s, e := f.counts(); s != 1 || e != 0 {
				t.Fatalf("after second port: starts=%d stops=%d, want 1 0", s, e)
			}
			c1, c2 := dial(t, p1), dial(t, p2)
			roundTrip(t, c1, "one")
			roundTrip(t, c2, "two")
			a, b := p1, p2
			if order == "last-first" {
				a, b = p2, p1
			}
			if err := a.StopListening(); err != nil {
				t.Fatalf("StopListening: %v", err)
			}
			if s, e := f.counts(); s != 1 || e != 0 {
				t.Fatalf("after one port stopped: starts=%d stops=%d, want 1 0", s, e)
			}
			b.StopListening()
			if s, e := f.counts(); s != 1 || e != 1 {
				t.Fatalf("after both stopped: starts=%d stops=%d, want 1 1", s, e)
			}
			// Open connections survive StopListening.
			roundTrip(t, c1, "still")
			roundTrip(t, c2, "here")
			if _, err := net.DialTimeout("tcp", a.Addr().String(), time.Second); err == nil {
				t.Error("dial to a stopped port succeeded")
			}
			// A new port starts the factory again.
			p3 := listen(t, r, f)
			roundTrip(t, dial(t, p3), "three")
			if s, e := f.counts(); s != 2 || e != 1 {
				t.Fatalf("after restart: starts=%d stops=%d, want 2 1", s, e)
			}
			if f.builtBeforeStart {
				t.Error("BuildProtocol ran before StartFactory")
			}
		})
	}
}

func TestFactoryStoppedAtReactorStop(t *testing.T) {
	f := &countingFactory{}
	r := reactor.New(reactor.WithLoops(1))
	listen(t, r, f)
	listen(t, r, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	cancel()
	<-done
	if s, e := f.counts(); s != 1 || e != 1 {
		t.Fatalf("starts=%d stops=%d, want 1 1", s, e)
	}
	if _, err := r.ListenTCP("127.0.0.1:0", f); !errors.Is(err, reactor.ErrStopped) {
		t.Fatalf("ListenTCP after stop: %v, want ErrStopped", err)
	}
}

func TestLoseConnectionFlushesEverything(t *testing.T) {
	const size = 8 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(2), reactor.WithWriteBufferSize(64<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(32 << 10)
	tr := f.transport(t)
	// Write from the connection's loop, in pieces, then close at once.
	tr.Loop().CallSoon(func() {
		for off := 0; off < size; off += 1 << 20 {
			tr.Write(payload[off : off+1<<20])
		}
		tr.LoseConnection()
	})
	var got bytes.Buffer
	buf := make([]byte, 16<<10)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		time.Sleep(200 * time.Microsecond) // a slow reader
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", got.Len(), err)
		}
	}
	if got.Len() != size || !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("got %d bytes (equal=%v), want %d", got.Len(), bytes.Equal(got.Bytes(), payload), size)
	}
	if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}

func TestConcurrentWriters(t *testing.T) {
	const writers, msgs = 8, 2000
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	tr := f.transport(t)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < msgs; i++ {
				// A record: writer, sequence, padding, newline; written as a
				// sequence half the time.
				rec := []byte{'w', byte('0' + w), byte(i >> 8), byte(i), 'x', 'y', 'z', '\n'}
				if i%2 == 0 {
					tr.Write(rec)
				} else {
					tr.WriteSequence([][]byte{rec[:3], rec[3:]})
				}
			}
		}()
	}
	wg.Wait()
	tr.LoseConnection()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	data, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(data) != writers*msgs*8 {
		t.Fatalf("got %d bytes, want %d", len(data), writers*msgs*8)
	}
	next := make([]int, writers)
	for off := 0; off < len(data); off += 8 {
		rec := data[off : off+8]
		w := int(rec[1] - '0')
		if rec[0] != 'w' || w < 0 || w >= writers || string(rec[4:]) != "xyz\n" {
			t.Fatalf("record at %d torn: %q", off, rec)
		}
		seq := int(rec[2])<<8 | int(rec[3])
		if seq != next[w] {
			t.Fatalf("writer %d: record %d arrived when %d was due", w, seq, next[w])
		}
		next[w]++
	}
}
