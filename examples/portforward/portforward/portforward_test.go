package portforward_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/examples/portforward/portforward"
	"github.com/whirl-go/whirl/internal/heaptest"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// logBuffer collects the JSON lines of a zerolog logger; zerolog writes one
// event per Write. Any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// entry is the part of a log line the tests look at.
type entry struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Kind    string `json:"kind"`
	Error   string `json:"error"`
	Peer    string `json:"peer"`
	Dest    string `json:"dest"`
}

// find returns the first entry with message msg, if any.
func (b *logBuffer) find(t testing.TB, msg string) (entry, bool) {
	t.Helper()
	b.mu.Lock()
	data := append([]byte(nil), b.buf.Bytes()...)
	b.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if e.Message == msg {
			return e, true
		}
	}
	return entry{}, false
}

// forwarder runs a forwarder to connect on 127.0.0.1, with two loops and
// opts, until the test ends, logging at debug level into the returned
// buffer.
func forwarder(t testing.TB, connect string, opts ...reactor.Option) (*portforward.Factory, string, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	r := reactor.New(append([]reactor.Option{reactor.WithLoops(2), reactor.WithLogger(log)}, opts...)...)
	f := &portforward.Factory{Reactor: r, Connect: connect, Log: log}
	if err := f.Check(); err != nil {
		t.Fatalf("Check(%q): %v", connect, err)
	}
	port, err := r.Listen("tcp:0:interface=127.0.0.1", f)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	reactortest.Run(t, r)
	return f, port.Addr().String(), logs
}

// farEnd listens on 127.0.0.1 with the standard library until the test ends:
// the destination of the forwards.
func farEnd(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// accept returns the next connection ln accepts, within 5 s.
func accept(t testing.TB, ln net.Listener) net.Conn {
	t.Helper()
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("the far end accepted no connection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
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

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

// chunk is the size of the tests' reads and writes.
const chunk = 64 << 10

// stream is a reproducible stream of random bytes: the same seed gives the
// same bytes, so a receiver checks each piece against its own copy and finds
// the first byte lost, repeated or out of order.
type stream struct{ r *rand.ChaCha8 }

func newStream(seed uint64) stream {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return stream{rand.NewChaCha8(s)}
}

// send writes total bytes of the stream seed to w, chunk by chunk.
func send(w io.Writer, seed uint64, total int64) error {
	src := newStream(seed)
	buf := make([]byte, chunk)
	for off := int64(0); off < total; {
		b := buf[:min(int64(chunk), total-off)]
		_, _ = src.r.Read(b)
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write at %d of %d: %w", off, total, err)
		}
		off += int64(len(b))
	}
	return nil
}

// receive reads total bytes of the stream seed from r, chunk by chunk,
// sleeping pause after each chunk (a slow reader), adds what it read to n as
// it goes, and checks every byte. With eof it then expects the end of the
// stream.
func receive(r io.Reader, seed uint64, total int64, pause time.Duration, n *atomic.Int64, eof bool) error {
	want := newStream(seed)
	got, exp := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < total; {
		b := got[:min(int64(chunk), total-off)]
		k, err := io.ReadFull(r, b)
		e := exp[:k]
		_, _ = want.r.Read(e)
		if !bytes.Equal(b[:k], e) {
			for i := range e {
				if b[i] != e[i] {
					return fmt.Errorf("byte %d of %d is %#x, want %#x", off+int64(i), total, b[i], e[i])
				}
			}
		}
		off += int64(k)
		n.Add(int64(k))
		if err != nil {
			return fmt.Errorf("read after %d of %d bytes: %w", off, total, err)
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	if eof {
		if k, err := r.Read(got[:1]); err != io.EOF {
			return fmt.Errorf("read after all %d bytes = %d, %v; want EOF", total, k, err)
		}
	}
	return nil
}

// watchInFlight samples, every millisecond until the returned function is
// called, the bytes in flight each way: what the forwarder received from one
// side and the other side has not read yet (the reader's count is read
// first, so a sample never understates). That function returns the peaks.
func watchInFlight(f *portforward.Factory, upRead, downRead *atomic.Int64) (stop func() (up, down int64)) {
	var peakUp, peakDown int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			u, d := upRead.Load(), downRead.Load()
			s := f.Stats()
			peakUp, peakDown = max(peakUp, s.Up-u), max(peakDown, s.Down-d)
		}
	}()
	return func() (int64, int64) {
		close(quit)
		<-done
		return peakUp, peakDown
	}
}

// testRcvBuf is the receive buffer the test's peers ask for, so that what
// the kernel holds for them is known.
const testRcvBuf = 256 << 10

// setRcvBuf sets c's kernel receive buffer to testRcvBuf.
func setRcvBuf(t testing.TB, c net.Conn) {
	t.Helper()
	if err := c.(*net.TCPConn).SetReadBuffer(testRcvBuf); err != nil {
		t.Fatal(err)
	}
}

func setDeadline(t testing.TB, d time.Duration, conns ...net.Conn) {
	t.Helper()
	for _, c := range conns {
		if err := c.SetDeadline(time.Now().Add(d)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestForward64MiBEachWay sends 64 MiB each way at once through the
// forwarder, one side reading 64 KiB every 2 ms and the other as fast as it
// can: every byte must arrive in order, the bytes in flight (received by the
// forwarder, not yet read by the other side) must stay within the kernel's
// socket buffers plus 1 MiB, and the heap of the process (forwarder and
// peers) must stay flat.
func TestForward64MiBEachWay(t *testing.T) {
	const (
		total     = 64 << 20
		slow      = 2 * time.Millisecond
		maxGrowth = 16 << 20
		slack     = 1 << 20 // the forwarder's own buffers: a watermark and a read per side, with room
	)
	tests := []struct {
		name                string
		nearPause, farPause time.Duration
	}{
		{"slow far end", 0, slow},
		{"slow near end", slow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			far := farEnd(t)
			// The forwarder's sockets, accepted and outbound, get small
			// kernel send buffers, so that what the kernel holds is known.
			f, addr, _ := forwarder(t, far.Addr().String(), reactor.WithWriteBufferSize(testRcvBuf))
			near := dial(t, addr)
			fe := accept(t, far)
			setRcvBuf(t, near)
			setRcvBuf(t, fe)
			setDeadline(t, 2*time.Minute, near, fe)

			var nearRead, farRead atomic.Int64
			stopHeap := heaptest.Watch()
			stopFlight := watchInFlight(f, &farRead, &nearRead)
			start := time.Now()
			errs := make(chan error, 4)
			run := func(what string, fn func() error) {
				go func() {
					if err := fn(); err != nil {
						errs <- fmt.Errorf("%s: %w", what, err)
						return
					}
					errs <- nil
				}()
			}
			run("near sends", func() error { return send(near, 1, total) })
			run("far sends", func() error { return send(fe, 2, total) })
			run("far receives", func() error { return receive(fe, 1, total, tt.farPause, &farRead, false) })
			run("near receives", func() error { return receive(near, 2, total, tt.nearPause, &nearRead, false) })
			for range 4 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			elapsed := time.Since(start)
			up, down := stopFlight()
			growth := stopHeap()
			if t.Failed() {
				return
			}
			s := f.Stats()
			if s.Up != total || s.Down != total {
				t.Errorf("forwarder counted %d bytes up and %d down, want %d each", s.Up, s.Down, total)
			}
			t.Logf("64 MiB each way in %v; in flight at most %.2f MiB up, %.2f MiB down; heap peak growth %.2f MiB",
				elapsed.Round(time.Millisecond), float64(up)/(1<<20), float64(down)/(1<<20), float64(growth)/(1<<20))
			// What can be in flight each way: the forwarder's own
			// buffers, its socket's send buffer and the reader's receive
			// buffer (both doubled by Linux for its bookkeeping).
			const bound = 2*testRcvBuf + 2*testRcvBuf + slack
			if up > bound {
				t.Errorf("%.2f MiB in flight towards the far end, want at most %.2f MiB", float64(up)/(1<<20), float64(bound)/(1<<20))
			}
			if down > bound {
				t.Errorf("%.2f MiB in flight towards the near end, want at most %.2f MiB", float64(down)/(1<<20), float64(bound)/(1<<20))
			}
			if growth > maxGrowth {
				t.Errorf("heap grew by %.1f MiB, want less than %d MiB", float64(growth)/(1<<20), maxGrowth>>20)
			}
		})
	}
}

// TestForwardClose closes one side after it sent a stream to a slow reader
// on the other: the reader gets every byte, then the end of the stream.
func TestForwardClose(t *testing.T) {
	const total = 8 << 20
	for _, closer := range []string{"near", "far"} {
		t.Run(closer+" closes", func(t *testing.T) {
			far := farEnd(t)
			f, addr, _ := forwarder(t, far.Addr().String())
			near := dial(t, addr)
			fe := accept(t, far)
			from, to := near, fe
			if closer == "far" {
				from, to = fe, near
			}
			setRcvBuf(t, to)
			setDeadline(t, time.Minute, near, fe)
			sent := make(chan error, 1)
			go func() {
				err := send(from, 3, total)
				from.Close()
				sent <- err
			}()
			var n atomic.Int64
			if err := receive(to, 3, total, time.Millisecond, &n, true); err != nil {
				t.Error(err)
			}
			if err := <-sent; err != nil {
				t.Error(err)
			}
			waitFor(t, "the forwarder to count every byte", func() bool {
				s := f.Stats()
				return s.Up+s.Down == total
			})
		})
	}
}

// TestForwardRefused forwards to a port nobody listens on: the inbound
// connection is closed at once, and the failure logged with its class.
func TestForwardRefused(t *testing.T) {
	ln := farEnd(t)
	dest := ln.Addr().String()
	ln.Close()
	f, addr, logs := forwarder(t, "tcp:"+dest)
	near := dial(t, addr)
	setDeadline(t, 5*time.Second, near)
	start := time.Now()
	if _, err := near.Write([]byte("anyone there?")); err != nil {
		t.Fatal(err)
	}
	if n, err := near.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read = %d, %v; want the end of the stream", n, err)
	}
	elapsed := time.Since(start)
	if elapsed > 2*time.Second {
		t.Errorf("the inbound connection closed after %v, want at once", elapsed)
	}
	t.Logf("inbound closed %v after the refusal", elapsed.Round(time.Microsecond))
	waitFor(t, "the failure to be logged", func() bool { _, ok := logs.find(t, "outbound connection failed; closing inbound"); return ok })
	e, _ := logs.find(t, "outbound connection failed; closing inbound")
	if e.Level != "warn" || e.Kind != "refused" || !strings.Contains(e.Error, "connection refused") || e.Dest != dest {
		t.Errorf("logged %+v, want a warning of kind refused, to %s, with the reason", e, dest)
	}
	if s := f.Stats(); s.Failed != 1 || s.Forwarded != 0 || s.Up != 0 {
		t.Errorf("stats %+v, want 1 failure, nothing forwarded", s)
	}
}

// blackhole is a listening socket whose accept queue is full, so that a
// connect to it gets no answer (its SYNs are dropped) until the queue is
// drained.
type blackhole struct {
	addr    string
	ln      net.Listener
	fillers map[string]bool // local addresses of the connections that fill it
}

// newBlackhole returns a blackhole. It skips the test where the system
// answers connects past a full queue anyway.
func newBlackhole(t *testing.T) *blackhole {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.CloseOnExec(fd) // SOCK_CLOEXEC is not portable (darwin)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	file := os.NewFile(uintptr(fd), "blackhole")
	ln, err := net.FileListener(file) // a duplicate of fd
	file.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	bh := &blackhole{addr: ln.Addr().String(), ln: ln, fillers: map[string]bool{}}
	for range 4 {
		c, err := net.DialTimeout("tcp", bh.addr, 200*time.Millisecond)
		if err != nil {
			return bh // the queue is full: SYNs go unanswered
		}
		t.Cleanup(func() { c.Close() })
		bh.fillers[c.LocalAddr().String()] = true
	}
	t.Skip("the system completes connections past a full accept queue; no black hole to connect to")
	return nil
}

// open drains the queue and returns the first connection accepted that is
// not one of the fillers, within 10 s (a dropped SYN is sent again after
// about a second).
func (bh *blackhole) open(t *testing.T) net.Conn {
	t.Helper()
	if err := bh.ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		c, err := bh.ln.Accept()
		if err != nil {
			t.Fatalf("the black hole accepted nothing: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		if !bh.fillers[c.RemoteAddr().String()] {
			return c
		}
	}
}

// TestForwardTimeout forwards to a destination that does not answer, with a
// connect timeout: the inbound connection is not read meanwhile, and is
// closed when the timeout passes.
func TestForwardTimeout(t *testing.T) {
	host, port, _ := net.SplitHostPort(newBlackhole(t).addr)
	f, addr, logs := forwarder(t, "tcp:host="+host+":port="+port+":timeout=0.3")
	near := dial(t, addr)
	setDeadline(t, 5*time.Second, near)
	start := time.Now()
	if _, err := near.Write([]byte("hello?")); err != nil {
		t.Fatal(err)
	}
	if n, err := near.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read = %d, %v; want the end of the stream", n, err)
	}
	elapsed := time.Since(start)
	if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("the inbound connection closed after %v, want about 300ms", elapsed)
	}
	waitFor(t, "the failure to be logged", func() bool { _, ok := logs.find(t, "outbound connection failed; closing inbound"); return ok })
	if e, _ := logs.find(t, "outbound connection failed; closing inbound"); e.Kind != "timeout" || e.Level != "warn" {
		t.Errorf("logged %+v, want a warning of kind timeout", e)
	}
	if s := f.Stats(); s.Up != 0 || s.Failed != 1 {
		t.Errorf("stats %+v, want nothing read from the inbound side and 1 failure", s)
	}
}

// TestForwardInboundLeavesWhileConnecting closes the inbound connection
// while its outbound one is being made. The inbound connection is paused, so
// the reactor does not see it go (as in Twisted); once the outbound
// connection is made, the splice resumes reading, the inbound side is found
// gone, and the outbound connection is closed: nothing is left open.
func TestForwardInboundLeavesWhileConnecting(t *testing.T) {
	bh := newBlackhole(t)
	f, addr, _ := forwarder(t, bh.addr)
	near := dial(t, addr)
	waitFor(t, "the inbound connection", func() bool { return f.Stats().Inbound == 1 })
	time.Sleep(20 * time.Millisecond) // the attempt is under way
	near.Close()
	fe := bh.open(t)
	setDeadline(t, 10*time.Second, fe)
	if n, err := fe.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the far end read %d, %v; want the end of the stream", n, err)
	}
	if s := f.Stats(); s.Forwarded != 1 || s.Up != 0 || s.Failed != 0 {
		t.Errorf("stats %+v, want 1 forward, nothing relayed, no failure", s)
	}
}

// twistedPython returns a python3 that can import Twisted: the first on the
// PATH, or the system's, or "" if neither can.
func twistedPython() string {
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if err := exec.Command(p, "-c", "import twisted").Run(); err == nil {
			return p
		}
	}
	return ""
}

// TestForwardTwistedPeer forwards to Twisted's echo server (Python's
// Twisted, if installed): 4 MiB go there and come back through the
// forwarder while more is sent.
func TestForwardTwistedPeer(t *testing.T) {
	python := twistedPython()
	if python == "" {
		t.Skip("no python3 with Twisted")
	}
	const script = `
import sys, threading
from twisted.internet import reactor, protocol

class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

port = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
print(port.getHost().port, flush=True)

def wait():
    sys.stdin.read()
    reactor.callFromThread(reactor.stop)

threading.Thread(target=wait, daemon=True).start()
reactor.run()
`
	cmd := exec.Command(python, "-c", script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading Twisted's port: %v", err)
	}
	f, addr, _ := forwarder(t, "tcp:127.0.0.1:"+strings.TrimSpace(line))
	near := dial(t, addr)
	setDeadline(t, 30*time.Second, near)
	const total = 4 << 20
	sent := make(chan error, 1)
	go func() { sent <- send(near, 4, total) }()
	var n atomic.Int64
	if err := receive(near, 4, total, 0, &n, false); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	near.Close()
	waitFor(t, "the forward to close", func() bool { s := f.Stats(); return s.Up == total && s.Down == total })
}
