package reactor_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

func TestCallLater(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	fired := make(chan string, 8)
	// Scheduled before Run: runs once the reactor runs.
	early := r.CallLater(time.Millisecond, func() { fired <- "early" })
	running(t, r)
	if s := <-fired; s != "early" {
		t.Fatalf("first call: %s", s)
	}
	cancelled := r.CallLater(20*time.Millisecond, func() { fired <- "cancelled" })
	reset := r.CallLater(time.Hour, func() { fired <- "reset" })
	delayed := r.CallLater(5*time.Millisecond, func() { fired <- "delayed" })
	first := r.CallLater(2*time.Millisecond, func() { fired <- "first" })
	if err := cancelled.Cancel(); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := cancelled.Cancel(); !errors.Is(err, transport.ErrAlreadyCancelled) {
		t.Fatalf("second Cancel: %v, want ErrAlreadyCancelled", err)
	}
	if err := reset.Reset(30 * time.Millisecond); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	before := delayed.Time()
	if err := delayed.Delay(60 * time.Millisecond); err != nil {
		t.Fatalf("Delay: %v", err)
	}
	if got := delayed.Time().Sub(before); got != 60*time.Millisecond {
		t.Fatalf("Delay moved the call by %v, want 60ms", got)
	}
	var order []string
	for len(order) < 3 {
		select {
		case s := <-fired:
			order = append(order, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("calls fired: %v", order)
		}
	}
	if want := []string{"first", "reset", "delayed"}; order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("order %v, want %v", order, want)
	}
	select {
	case s := <-fired:
		t.Fatalf("%s fired", s)
	case <-time.After(50 * time.Millisecond):
	}
	if early.Active() || first.Active() {
		t.Error("Active() after the call ran")
	}
	if err := early.Reset(time.Second); !errors.Is(err, transport.ErrAlreadyCalled) {
		t.Errorf("Reset after call: %v, want ErrAlreadyCalled", err)
	}
	// A panicking reactor timer is logged and the reactor keeps going.
	r.CallLater(0, func() { panic("timer") })
	ok := make(chan struct{})
	r.CallLater(time.Millisecond, func() { close(ok) })
	select {
	case <-ok:
	case <-time.After(5 * time.Second):
		t.Fatal("reactor stopped running timers after a panic")
	}
}

func TestCallFromGoroutineAndDefer(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	var loopID atomic.Uint64
	got := make(chan error, 4)
	if err := r.CallFromGoroutine(func() { loopID.Store(goid()); got <- nil }); err != nil {
		t.Fatalf("CallFromGoroutine before Run: %v", err)
	}
	running(t, r)
	<-got
	r.DeferToGoroutine(func() (any, error) {
		time.Sleep(10 * time.Millisecond) // blocking work, off the loop
		return 42, nil
	}, func(res any, err error) {
		if res != 42 || err != nil || goid() != loopID.Load() {
			got <- errors.New("then: wrong result or not on loop 0")
			return
		}
		got <- nil
	})
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	r.DeferToGoroutine(func() (any, error) { panic("worker") }, func(res any, err error) {
		var pe *transport.PanicError
		if !errors.As(err, &pe) || pe.Value != "worker" {
			got <- errors.New("panic in fn not passed to then")
			return
		}
		got <- nil
	})
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestRunTwice(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	time.Sleep(10 * time.Millisecond)
	if err := r.Run(context.Background()); !errors.Is(err, reactor.ErrRunning) {
		t.Fatalf("second Run: %v, want ErrRunning", err)
	}
}

func TestOnShutdownDelaysStop(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, f)
	release := make(chan struct{})
	hookDone := make(chan struct{})
	r.OnShutdown(func(ctx context.Context) error {
		<-release
		close(hookDone)
		return nil
	})
	r.OnShutdown(func(ctx context.Context) error { return errors.New("logged, not fatal") })
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	c := dial(t, p)
	tr := f.transport(t)
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	// The hook holds the stop: the connection still works.
	if !tr.Connected() {
		t.Fatal("connection closed before the shutdown hook returned")
	}
	roundTripEcholess(t, c, tr)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	<-hookDone
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}

// roundTripEcholess checks the server can still write to c.
func roundTripEcholess(t *testing.T, c io.Reader, tr transport.Transport) {
	t.Helper()
	if _, err := tr.Write([]byte("ok")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestStopDeadlineAbortsStuckConnections(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(16<<10))
	p := listen(t, r, f)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	c := dial(t, p)
	c.SetReadBuffer(16 << 10)
	tr := f.transport(t)
	tr.Write(make([]byte, 4<<20)) // the client never reads
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, reactor.ErrStopDeadline) {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping ErrStopDeadline", reason)
	}
	<-done
}

func TestDrainTimeout(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(16<<10),
		reactor.WithDrainTimeout(150*time.Millisecond))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(16 << 10)
	tr := f.transport(t)
	tr.Write(make([]byte, 4<<20))
	tr.LoseConnection()
	if n, err := tr.Write([]byte("x")); n != 0 || !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Write while disconnecting = %d, %v; want ErrClosed", n, err)
	}
	if !tr.Disconnecting() || tr.Connected() {
		t.Fatal("not Disconnecting after LoseConnection")
	}
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, transport.ErrWriteStalled) {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping ErrWriteStalled", reason)
	}
}

func TestSocketOptions(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithTCPKeepAlive(30*time.Second, 5*time.Second, 3),
		reactor.WithBacklog(16), reactor.WithReusePort(true), reactor.WithReadBufferSize(64<<10))
	p := listen(t, r, f)
	running(t, r)
	dial(t, p)
	tr := f.transport(t)
	if err := tr.SetTCPNoDelay(false); err != nil {
		t.Errorf("SetTCPNoDelay: %v", err)
	}
	if err := tr.SetTCPKeepAlive(10*time.Second, time.Second, 4); err != nil {
		t.Errorf("SetTCPKeepAlive: %v", err)
	}
	if err := tr.SetTCPKeepAlive(0, 0, 0); err != nil {
		t.Errorf("SetTCPKeepAlive off: %v", err)
	}
	// SO_REUSEPORT lets a second port bind the same address.
	p2, err := r.ListenTCP(p.Addr().String(), f)
	if err != nil {
		t.Fatalf("second ListenTCP on a reuseport address: %v", err)
	}
	p2.StopListening()
}

func TestStopAndStopListeningFromALoop(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	dial(t, p)
	tr := f.transport(t)
	returned := make(chan struct{})
	tr.Loop().CallSoon(func() {
		p.StopListening()
		r.Stop(context.Background())
		close(returned)
	})
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop or StopListening blocked the loop")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reactor did not stop")
	}
	if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v", reason)
	}
}
