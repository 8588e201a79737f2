package reconnect_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/reconnect/reconnect"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// lineEcho sends back every line it receives.
type lineEcho struct{ protocol.LineReceiver }

func (e *lineEcho) LineReceived(line []byte) { _ = e.SendLine(line) }

// server is a line echo on a reactor of its own, which the test stops and
// starts again.
type server struct {
	r    *reactor.Reactor
	addr string
	done chan error
}

// startServer runs a line echo on addr ("127.0.0.1:0" for a port the system
// picks).
func startServer(t *testing.T, addr string) *server {
	t.Helper()
	r := reactor.New(reactor.WithLoops(1))
	port, err := r.ListenTCP(addr, factory.ForProtocol(func() protocol.Protocol { return &lineEcho{} }))
	if err != nil {
		t.Fatalf("ListenTCP(%s): %v", addr, err)
	}
	s := &server{r: r, addr: port.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- r.Run(context.Background()) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the server gracefully, closing its connections; it does
// nothing the second time.
func (s *server) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.r.Stop(ctx); err != nil {
		t.Errorf("stopping the server: %v", err)
	}
	select {
	case err, ok := <-s.done:
		if ok && err != nil {
			t.Errorf("the server's Run: %v", err)
		}
		if ok {
			close(s.done)
		}
	case <-ctx.Done():
		t.Error("the server did not stop within 10s")
	}
}

// lines collects the lines a client receives. Any goroutine.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(line []byte) {
	l.mu.Lock()
	l.all = append(l.all, string(line))
	l.mu.Unlock()
}

func (l *lines) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// seenSince reports whether line was received at index from or later.
func (l *lines) seenSince(from int, line string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.all[min(from, len(l.all)):] {
		if s == line {
			return true
		}
	}
	return false
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
	}
}

// onLoop runs fn on the connector's loop and waits for it.
func onLoop(t *testing.T, c *reactor.Connector, fn func()) {
	t.Helper()
	done := make(chan struct{})
	c.Clock().CallLater(0, func() {
		fn()
		close(done)
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the connector's loop did not run the call within 5s")
	}
}

// TestReconnectAcrossRestart connects the client to a line echo, stops the
// server, checks the client backs off as Twisted's formula says while it is
// away, starts it again on the same address, and checks the session resumes:
// lines sent go through, the heartbeat starts again, and the backoff was
// reset.
func TestReconnectAcrossRestart(t *testing.T) {
	const (
		initial  = 10 * time.Millisecond
		maxDelay = 100 * time.Millisecond
	)
	srv := startServer(t, "127.0.0.1:0")
	addr := srv.addr

	var got lines
	f := &reconnect.Factory{Heartbeat: 20 * time.Millisecond, Received: got.add}
	f.InitialDelay, f.Factor, f.Jitter, f.MaxDelay = initial, 2, -1, maxDelay

	r := reactor.New(reactor.WithLoops(1))
	if err := f.Send([]byte("too early")); !errors.Is(err, reconnect.ErrNotConnected) {
		t.Errorf("Send before connecting = %v, want ErrNotConnected", err)
	}
	c, err := reconnect.Connect(context.Background(), r, "tcp:"+addr, f)
	if err != nil {
		t.Fatal(err)
	}
	clientDone := make(chan error, 1)
	go func() { clientDone <- r.Run(context.Background()) }()
	clientStopped := false
	stopClient := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		clientStopped = true
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stopping the client: %v", err)
		}
		if err := <-clientDone; err != nil {
			t.Errorf("the client's Run: %v", err)
		}
	}
	defer func() {
		if !clientStopped {
			stopClient()
		}
	}()

	// The first session: a line and the heartbeat come back.
	waitFor(t, "the first connection", f.Connected)
	if err := f.Send([]byte("hello")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	waitFor(t, "hello to come back", func() bool { return got.seenSince(0, "hello") })
	waitFor(t, "a heartbeat to come back", func() bool { return got.seenSince(0, "PING 1") })

	// The server goes away; the client backs off: 20, 40, 80, then 100 ms
	// (MaxDelay).
	srv.stop(t)
	waitFor(t, "the connection to be lost", func() bool { return !f.Connected() })
	if err := f.Send([]byte("into the void")); !errors.Is(err, reconnect.ErrNotConnected) {
		t.Errorf("Send while the server is away = %v, want ErrNotConnected", err)
	}
	waitFor(t, "four refused retries", func() bool { return len(f.Backoff()) >= 5 })

	// It comes back on the same address; the client reconnects by itself.
	mark := got.len()
	startServer(t, addr)
	waitFor(t, "the second connection", func() bool { return f.Sessions() == 2 && f.Connected() })
	var delay time.Duration
	var retries int
	onLoop(t, c, func() { delay, retries = f.Delay(), f.Retries() })
	if delay != initial || retries != 0 {
		t.Errorf("after reconnecting: Delay() = %v, Retries() = %d; want %v, 0 (ResetDelay)", delay, retries, initial)
	}
	if err := f.Send([]byte("hello again")); err != nil {
		t.Fatalf("Send after reconnecting: %v", err)
	}
	waitFor(t, "hello again to come back", func() bool { return got.seenSince(mark, "hello again") })
	waitFor(t, "the heartbeat to start again", func() bool { return got.seenSince(mark, "PING 1") })

	backoff := f.Backoff()
	for i, b := range backoff {
		want := min(initial<<(i+1), maxDelay)
		if b.Lost != (i == 0) || b.Retries != i+1 || b.Delay != want || !b.Pending {
			t.Errorf("retry %d: %+v; want lost %v, retries %d, delay %v, pending", i, b, i == 0, i+1, want)
		}
		if i == 0 && !errors.Is(b.Reason, transport.ErrConnectionDone) {
			t.Errorf("retry 0 after %v, want a clean close", b.Reason)
		}
		if i > 0 && !errors.Is(b.Reason, transport.ErrConnectionRefused) {
			t.Errorf("retry %d after %v, want a refusal", i, b.Reason)
		}
	}
	t.Logf("delays while the server was away: %s", delays(backoff))

	// A graceful stop of the client calls StopTrying first: the connection
	// it closes is not retried.
	n := len(backoff)
	stopClient()
	backoff = f.Backoff()
	if len(backoff) != n+1 || !backoff[n].Lost || backoff[n].Pending {
		t.Errorf("after the client's stop: %s; want one more loss, not retried", delays(backoff[n:]))
	}
}

func delays(rs []reconnect.Retry) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		what := "failed"
		if r.Lost {
			what = "lost"
		}
		fmt.Fprintf(&b, "%s→retry %d in %v (pending %v)", what, r.Retries, r.Delay, r.Pending)
	}
	return b.String()
}

// TestRefusedFromTheStart checks that a client whose destination is
// refused from the start retries up to MaxRetries, then gives up, and sends
// nothing meanwhile.
func TestRefusedFromTheStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := &reconnect.Factory{}
	f.InitialDelay, f.Factor, f.Jitter, f.MaxRetries = time.Millisecond, 2, -1, 3
	r := reactor.New(reactor.WithLoops(1))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if _, err := reconnect.Connect(context.Background(), r, addr, f); err != nil {
		t.Fatal(err)
	}
	// MaxRetries 3: three retries, then the fourth failure is not retried.
	waitFor(t, "the factory to give up", func() bool {
		b := f.Backoff()
		return len(b) == 4 && !b[3].Pending
	})
	b := f.Backoff()
	for i, want := range []time.Duration{2, 4, 8} {
		if b[i].Delay != want*time.Millisecond || !b[i].Pending || b[i].Lost {
			t.Errorf("retry %d: %+v; want a refusal retried after %v", i, b[i], want*time.Millisecond)
		}
	}
	if f.Sessions() != 0 || f.Connected() {
		t.Error("a session was made with nobody listening")
	}
	if err := f.Send([]byte("x")); !errors.Is(err, reconnect.ErrNotConnected) {
		t.Errorf("Send = %v, want ErrNotConnected", err)
	}
}
