package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport"
)

// runReactor runs a reactor with opts until the test ends.
func runReactor(t *testing.T, opts ...reactor.Option) *reactor.Reactor {
	t.Helper()
	r := reactor.New(opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("reactor still running 15 s after its context ended")
		}
	})
	return r
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// lineEcho is Tornado's tcpecho server: read a line, write it back, wait
// for the write, read the next.
type lineEcho struct {
	stream.TCPServer
	started, stopped atomic.Int32
	closed           chan error
}

func (e *lineEcho) StartFactory() { e.started.Add(1) }
func (e *lineEcho) StopFactory()  { e.stopped.Add(1) }

func (e *lineEcho) HandleStream(s *stream.Stream, addr net.Addr) {
	var read func()
	written := func(err error) {
		if err == nil {
			read()
		}
	}
	gotLine := func(data []byte, err error) {
		if err != nil {
			return
		}
		_ = s.Write(data, written)
	}
	read = func() { s.ReadUntil([]byte("\n"), 0, gotLine) }
	s.SetCloseCallback(func() {
		if e.closed != nil {
			e.closed <- s.CloseReason()
		}
	})
	read()
}

var _ stream.Handler = (*lineEcho)(nil)

func TestTCPServerLineEcho(t *testing.T) {
	r := runReactor(t, reactor.WithLoops(2))
	srv := &lineEcho{closed: make(chan error, 4)}
	srv.Init(srv, r)
	p1, err := srv.Listen("tcp:0:interface=127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := srv.Listen("127.0.0.1:0") // Listen is repeatable
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.started.Load(); got != 1 {
		t.Errorf("StartFactory ran %d times, want 1", got)
	}
	var want bytes.Buffer
	for i := range 2000 {
		want.WriteString("line ")
		want.WriteString(string(rune('a' + i%26)))
		want.WriteString("\n")
	}
	for _, p := range []*reactor.Port{p1, p2} {
		c := dial(t, p.Addr())
		go func() { _, _ = c.Write(want.Bytes()) }()
		got := make([]byte, want.Len())
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reading the echo: %v", err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatal("echo differs from what was sent")
		}
		c.Close()
		select {
		case reason := <-srv.closed:
			if !errors.Is(reason, transport.ErrConnectionDone) {
				t.Errorf("CloseReason = %v, want ErrConnectionDone", reason)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("close callback did not run")
		}
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := srv.stopped.Load(); got != 1 {
		t.Errorf("StopFactory ran %d times after Stop, want 1", got)
	}
	if _, err := net.DialTimeout("tcp", p1.Addr().String(), time.Second); err == nil {
		t.Error("dial after Stop succeeded, want refused")
	}
}

// TestWriteDoneWaitsForTheKernel writes more than the socket buffers can
// hold to a peer that does not read: done must not run until the peer
// reads it all.
func TestWriteDoneWaitsForTheKernel(t *testing.T) {
	r := runReactor(t, reactor.WithLoops(1))
	const size = 32 << 20
	done := make(chan error, 1)
	srv := &funcServer{handle: func(s *stream.Stream, _ net.Addr) {
		if err := s.Write(bytes.Repeat([]byte{'x'}, size), func(err error) { done <- err }); err != nil {
			done <- err
		}
	}}
	srv.Init(srv, r)
	p, err := srv.Listen("127.0.0.1:0", reactor.WithMaxWriteBuffer(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	select {
	case err := <-done:
		t.Fatalf("done(%v) ran while the peer read nothing", err)
	case <-time.After(300 * time.Millisecond):
	}
	n, err := io.Copy(io.Discard, io.LimitReader(bufio.NewReader(c), size))
	if err != nil || n != size {
		t.Fatalf("read %d, %v; want %d", n, err, size)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("done did not run once the peer read everything")
	}
}

type funcServer struct {
	stream.TCPServer
	handle func(*stream.Stream, net.Addr)
}

func (f *funcServer) HandleStream(s *stream.Stream, addr net.Addr) { f.handle(s, addr) }
