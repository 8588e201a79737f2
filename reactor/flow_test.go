package reactor_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// pattern returns n bytes of a position-dependent pattern.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := off + i
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	return b
}

// checkPattern reads n bytes from c and checks they follow pattern.
func checkPattern(t *testing.T, c net.Conn, n int, delay time.Duration) {
	t.Helper()
	buf := make([]byte, 32<<10)
	off := 0
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for off < n {
		if delay > 0 {
			time.Sleep(delay)
		}
		m, err := c.Read(buf[:min(len(buf), n-off)])
		if !bytes.Equal(buf[:m], pattern(off, m)) {
			t.Fatalf("bytes %d..%d differ from what was sent", off, off+m)
		}
		off += m
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", off, n, err)
		}
	}
}

// writer writes total pattern bytes to c in the background and counts them.
type writer struct {
	written atomic.Int64
	done    chan error
}

func startWriter(c net.Conn, total int) *writer {
	w := &writer{done: make(chan error, 1)}
	go func() {
		const chunk = 64 << 10
		for off := 0; off < total; off += chunk {
			n, err := c.Write(pattern(off, min(chunk, total-off)))
			w.written.Add(int64(n))
			if err != nil {
				w.done <- err
				return
			}
		}
		w.done <- nil
	}()
	return w
}

// pausing pauses its transport when the connection is made.
type pausing struct {
	recorder
}

func (p *pausing) ConnectionMade() {
	p.Transport().PauseProducing()
	p.recorder.ConnectionMade()
}

func TestPauseStopsReadingTheSocket(t *testing.T) {
	var got bytes.Buffer
	var mu sync.Mutex
	f := newRecorderFactory(func(p *recorder, data []byte) {
		mu.Lock()
		got.Write(data)
		mu.Unlock()
	})
	pf := factory.ForProtocol(func() protocol.Protocol {
		return &pausing{recorder{made: f.made, lost: f.lost, onData: f.onData}}
	})
	r := reactor.New(reactor.WithLoops(2), reactor.WithReadBufferSize(64<<10))
	p := listen(t, r, pf)
	running(t, r)
	c := dial(t, p)
	c.SetWriteBuffer(64 << 10)
	tr := f.transport(t)
	const total = 64 << 20
	w := startWriter(c, total)
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	delivered := got.Len()
	mu.Unlock()
	if delivered != 0 {
		t.Fatalf("%d bytes delivered while paused", delivered)
	}
	// The kernel's buffers fill and TCP pushes back on the writer.
	if n := w.written.Load(); n > 8<<20 {
		t.Fatalf("the client wrote %d bytes to a paused connection: reading was not stopped", n)
	}
	tr.ResumeProducing()
	if err := <-w.done; err != nil {
		t.Fatalf("writer: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := got.Len()
		mu.Unlock()
		if n == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Len() != total || !bytes.Equal(got.Bytes(), pattern(0, total)) {
		t.Fatalf("after resume: %d of %d bytes, in order: %v", got.Len(), total, bytes.Equal(got.Bytes(), pattern(0, got.Len())))
	}
}

// selfProducing is the echo of examples/echo: its transport is the producer
// of its own output, so a peer that does not read stops being read.
type selfProducing struct{ protocol.Base }

func (e *selfProducing) ConnectionMade() { e.Transport().RegisterProducer(e.Transport(), true) }
func (e *selfProducing) DataReceived(data []byte) {
	e.Transport().Write(data)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestEchoBackpressureKeepsMemoryFlat(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &selfProducing{} }))
	running(t, r)
	c := dial(t, p)
	before := heapInUse()
	const total = 256 << 20
	w := startWriter(c, total)
	time.Sleep(time.Second)
	grown := int64(heapInUse()) - int64(before)
	written := w.written.Load()
	if written >= total {
		t.Fatalf("the client wrote all %d bytes without reading a single echo", written)
	}
	if grown > 32<<20 {
		t.Fatalf("heap grew by %d MiB while the client wrote %d MiB and read nothing", grown>>20, written>>20)
	}
	// Now read everything back: the echo is complete and in order.
	checkPattern(t, c, total, 0)
	if err := <-w.done; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// pusher is a streaming producer writing total pattern bytes in 16 KiB pieces.
type pusher struct {
	protocol.Base
	total                       int
	sent                        int
	running, scheduled          bool
	pauses, resumes, full, empt atomic.Int32
	done                        chan struct{}
}

func (p *pusher) ConnectionMade() {
	p.Transport().RegisterProducer(p, true)
	p.running = true
	p.schedule()
}

func (p *pusher) schedule() {
	if !p.scheduled {
		p.scheduled = true
		p.Transport().Loop().CallSoon(p.produce)
	}
}

func (p *pusher) produce() {
	p.scheduled = false
	if !p.running || p.sent >= p.total {
		return
	}
	n := min(16<<10, p.total-p.sent)
	p.Transport().Write(pattern(p.sent, n))
	p.sent += n
	if p.sent == p.total {
		p.Transport().UnregisterProducer()
		p.Transport().LoseConnection()
		close(p.done)
		return
	}
	p.schedule()
}

func (p *pusher) PauseProducing()     { p.pauses.Add(1); p.running = false }
func (p *pusher) ResumeProducing()    { p.resumes.Add(1); p.running = true; p.schedule() }
func (p *pusher) StopProducing()      { p.running = false }
func (p *pusher) WriteBufferFull()    { p.full.Add(1) }
func (p *pusher) WriteBufferDrained() { p.empt.Add(1) }

func TestPushProducerWatermarks(t *testing.T) {
	const total = 24 << 20
	pp := &pusher{total: total, done: make(chan struct{})}
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(64<<10))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return pp }))
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(64 << 10)
	before := heapInUse()
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if g := int64(heapInUse()) - int64(before); g > peak.Load() {
					peak.Store(g)
				}
			}
		}
	}()
	checkPattern(t, c, total, 2*time.Millisecond) // a slow reader: ~16 MiB/s
	close(stop)
	<-pp.done
	if pp.pauses.Load() == 0 || pp.resumes.Load() == 0 {
		t.Fatalf("producer paused %d times, resumed %d times; want both > 0", pp.pauses.Load(), pp.resumes.Load())
	}
	if pp.full.Load() == 0 || pp.empt.Load() == 0 {
		t.Fatalf("WriteBufferFull %d, WriteBufferDrained %d; want both > 0", pp.full.Load(), pp.empt.Load())
	}
	if peak.Load() > 16<<20 {
		t.Fatalf("heap peaked %d MiB above the start", peak.Load()>>20)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the data: %d, %v; want EOF", n, err)
	}
}

// sendsFile sends a file with a FileSender, then loses the connection.
type sendsFile struct {
	protocol.Base
	path   string
	result chan error
	fs     protocol.FileSender
}

func (s *sendsFile) ConnectionMade() {
	f, err := os.Open(s.path)
	if err != nil {
		s.result <- err
		return
	}
	s.fs.BeginFileTransfer(f, s.Transport(), func(err error) {
		f.Close()
		s.result <- err
		s.Transport().LoseConnection()
	})
}

func TestFileSenderPullProducer(t *testing.T) {
	const size = 20<<20 + 12345
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &sendsFile{path: path, result: result} }))
	running(t, r)
	c := dial(t, p)
	before := heapInUse()
	var got bytes.Buffer
	got.Grow(size)
	buf := make([]byte, 64<<10)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var peak int64
	for i := 0; ; i++ {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if i%64 == 0 {
			time.Sleep(time.Millisecond)
			if g := int64(heapInUse()) - int64(before) - int64(got.Cap()); g > peak {
				peak = g
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
	if err := <-result; err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("received %d bytes, want the %d-byte file", got.Len(), size)
	}
	if peak > 8<<20 {
		t.Fatalf("server heap peaked %d MiB above the start while sending", peak>>20)
	}
}

func TestWriteBufferOverflow(t *testing.T) {
	errs := make(chan error, 1)
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithMaxWriteBuffer(1<<20), reactor.WithWriteBufferSize(32<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(32 << 10)
	tr := f.transport(t)
	tr.Loop().CallSoon(func() {
		chunk := make([]byte, 256<<10)
		for i := 0; i < 64; i++ {
			if _, err := tr.Write(chunk); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	})
	if err := <-errs; !errors.Is(err, transport.ErrWriteBufferOverflow) {
		t.Fatalf("Write: %v, want ErrWriteBufferOverflow", err)
	}
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, transport.ErrWriteBufferOverflow) {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping ErrWriteBufferOverflow", reason)
	}
}

func TestReadIdleTimeout(t *testing.T) {
	f := newRecorderFactory(func(p *recorder, data []byte) { p.Transport().Write(data) })
	r := reactor.New(reactor.WithLoops(1), reactor.WithReadIdleTimeout(150*time.Millisecond))
	p := listen(t, r, f)
	running(t, r)
	busy := dial(t, p)
	f.transport(t)
	for i := 0; i < 8; i++ { // 400 ms of traffic every 50 ms: never idle
		roundTrip(t, busy, "tick")
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case reason := <-f.lost:
		t.Fatalf("a busy connection was closed: %v", reason)
	default:
	}
	busy.Close()
	f.reason(t)
	dial(t, p)
	f.transport(t)
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionDone) || !errors.Is(reason, transport.ErrIdleTimeout) {
		t.Fatalf("reason %v, want ErrConnectionDone wrapping ErrIdleTimeout", reason)
	}
}

func TestWriteStallTimeout(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteStallTimeout(200*time.Millisecond),
		reactor.WithWriteBufferSize(32<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(32 << 10)
	tr := f.transport(t)
	tr.Write(make([]byte, 4<<20))
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, transport.ErrWriteStalled) {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping ErrWriteStalled", reason)
	}
}

// valueProducer is a producer of an uncomparable type, registered by value.
type valueProducer struct{ calls []string }

func (valueProducer) PauseProducing()  {}
func (valueProducer) ResumeProducing() {}
func (valueProducer) StopProducing()   {}

func TestUncomparableProducer(t *testing.T) {
	f := newRecorderFactory(func(p *recorder, data []byte) {
		tr := p.Transport()
		if err := tr.RegisterProducer(valueProducer{calls: []string{"x"}}, true); err != nil {
			t.Errorf("RegisterProducer: %v", err)
		}
		tr.Write(data)
		tr.UnregisterProducer()
		tr.RegisterProducer(valueProducer{}, false)
		tr.UnregisterProducer()
	})
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	f.transport(t)
	roundTrip(t, c, "still serving")
}

// idleProducer is a streaming producer that writes nothing by itself.
type idleProducer struct{ stopped atomic.Bool }

func (p *idleProducer) PauseProducing()  {}
func (p *idleProducer) ResumeProducing() {}
func (p *idleProducer) StopProducing()   { p.stopped.Store(true) }

func TestLoseConnectionWaitsForProducer(t *testing.T) {
	for _, streaming := range []bool{true, false} {
		t.Run(fmt.Sprintf("streaming=%v", streaming), func(t *testing.T) {
			f := newRecorderFactory(nil)
			r := reactor.New(reactor.WithLoops(1))
			p := listen(t, r, f)
			running(t, r)
			c := dial(t, p)
			tr := f.transport(t)
			prod := &idleProducer{}
			if err := tr.RegisterProducer(prod, streaming); err != nil {
				t.Fatal(err)
			}
			tr.Write([]byte("before "))
			tr.LoseConnection()
			// With a producer registered, writes are still taken.
			if _, err := tr.Write([]byte("after")); err != nil {
				t.Fatalf("Write while losing with a producer: %v", err)
			}
			buf := make([]byte, 12)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "before after" {
				t.Fatalf("read %q, %v", buf, err)
			}
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if n, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection closed (%d, %v) while the producer was registered", n, err)
			}
			tr.UnregisterProducer()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(buf); err != io.EOF {
				t.Fatalf("after UnregisterProducer: %d, %v; want EOF", n, err)
			}
			if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
				t.Fatalf("reason %v", reason)
			}
			if prod.stopped.Load() {
				t.Error("StopProducing called on a producer that had unregistered")
			}
		})
	}
}
