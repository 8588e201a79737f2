package reactor_test

// Regression tests for the reactor rewritten on gnet's netpoll pollers: each
// of them pins a behaviour the previous reactor (on gnet's engine) got wrong,
// or one the rewrite must keep. Black-box: public API only.

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
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// Stop and Port.StopListening called at the same time from two goroutines,
// with clients dialling all along, must neither panic (the old reactor sent
// on a closed hand-off channel) nor leave a connection accepted behind the
// back of Stop's LoseConnection pass: the clients hold their connections
// open, so such a connection would keep Stop waiting until its deadline and
// then be aborted (with no deadline, Stop would wait for ever).
func TestStopRacesStopListening(t *testing.T) {
	for i := 0; i < 50; i++ {
		var made, escaped atomic.Int32
		f := factory.ForProtocol(func() protocol.Protocol {
			return &lossCounter{made: &made, escaped: &escaped}
		})
		r := reactor.New(reactor.WithLoops(2))
		p := listen(t, r, f)
		addr := p.Addr().String()
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background()) }()

		quit := make(chan struct{})
		var dialers sync.WaitGroup
		for d := 0; d < 8; d++ {
			dialers.Add(1)
			go func() {
				defer dialers.Done()
				var held []net.Conn
				defer func() {
					for _, c := range held {
						c.Close()
					}
				}()
				for {
					select {
					case <-quit:
						return
					default:
					}
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						time.Sleep(time.Millisecond)
						continue
					}
					held = append(held, c) // open until Stop returned
				}
			}()
		}
		// Let some connections through, so that dials are in flight at the stop.
		for deadline := time.Now().Add(2 * time.Second); made.Load() < 8 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		var stopErr error
		wg.Add(2)
		go func() { defer wg.Done(); stopErr = r.Stop(ctx) }()
		go func() { defer wg.Done(); p.StopListening() }()
		wg.Wait()
		elapsed := time.Since(start)
		cancel()
		close(quit)
		dialers.Wait()
		if stopErr != nil {
			t.Fatalf("iteration %d: Stop: %v", i, stopErr)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("iteration %d: Run: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("iteration %d: Run did not return after Stop", i)
		}
		// The clients are idle: every connection that Stop told to close
		// closes at once. One aborted at the deadline was never told.
		if n := escaped.Load(); n > 0 || elapsed > 1500*time.Millisecond {
			t.Fatalf("iteration %d: Stop racing StopListening took %v (deadline 3s); %d of %d connections aborted at the stop deadline",
				i, elapsed, n, made.Load())
		}
		if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			t.Fatalf("iteration %d: the port still accepts after Stop", i)
		}
	}
}

// lossCounter counts the connections made, and those aborted at the stop
// deadline.
type lossCounter struct {
	protocol.Base
	made, escaped *atomic.Int32
}

func (l *lossCounter) ConnectionMade() { l.made.Add(1) }

func (l *lossCounter) ConnectionLost(reason error) {
	if errors.Is(reason, reactor.ErrStopDeadline) {
		l.escaped.Add(1)
	}
}

// spEcho is the self-producing echo (selfProducing, the bounded echo of
// examples/echo) that reports ConnectionLost and closes itself on "quit".
type spEcho struct {
	selfProducing
	lost chan error
}

func (e *spEcho) DataReceived(data []byte) {
	if string(data) == "quit" {
		e.Transport().LoseConnection()
		return
	}
	e.selfProducing.DataReceived(data)
}

func (e *spEcho) ConnectionLost(reason error) { e.lost <- reason }

func spEchoFactory(lost chan error) factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &spEcho{lost: lost} })
}

// waitLost waits for one ConnectionLost reason.
func waitLost(t *testing.T, lost <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case reason := <-lost:
		if reason == nil {
			t.Fatal("ConnectionLost(nil)")
		}
		return reason
	case <-time.After(within):
		t.Fatalf("ConnectionLost not called within %v", within)
		return nil
	}
}

// readEOF reads from c until EOF, within d; it fails on anything else and
// returns what was read.
func readEOF(t *testing.T, c net.Conn, d time.Duration) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	data, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading to EOF: %v (after %d bytes)", err, len(data))
	}
	return data
}

// A TimeoutFactory around the self-producing echo closes an idle connection:
// the transport registered (through the wrapper's producer proxy) as its own
// producer must not hold the LoseConnection up (the old proxy held it for
// ever).
func TestTimeoutFactoryClosesSelfProducingEcho(t *testing.T) {
	lost := make(chan error, 4)
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, policies.TimeoutFactory(spEchoFactory(lost), 500*time.Millisecond))
	running(t, r)
	c := dial(t, p)
	roundTrip(t, c, "still busy")
	idleFrom := time.Now()
	readEOF(t, c, 3*time.Second)
	if d := time.Since(idleFrom); d < 400*time.Millisecond {
		t.Fatalf("closed after %v of idleness, before the 500ms timeout", d)
	}
	reason := waitLost(t, lost, 3*time.Second)
	if !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}

// The self-producing echo wrapped by a policy closes itself on "quit": a
// LoseConnection the protocol asks for closes the connection.
func TestWrappedSelfProducingEchoLosesConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(factory.Factory) *policies.WrappingFactory
	}{
		{"WrappingFactory", func(f factory.Factory) *policies.WrappingFactory { return policies.NewWrappingFactory(f, nil) }},
		{"LimitTotalConnections", func(f factory.Factory) *policies.WrappingFactory {
			return policies.LimitTotalConnections(f, 8, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost := make(chan error, 4)
			wf := tc.wrap(spEchoFactory(lost))
			r := reactor.New(reactor.WithLoops(2))
			p := listen(t, r, wf)
			running(t, r)
			c := dial(t, p)
			roundTrip(t, c, "ping")
			if _, err := c.Write([]byte("quit")); err != nil {
				t.Fatal(err)
			}
			if rest := readEOF(t, c, 3*time.Second); len(rest) != 0 {
				t.Fatalf("read %q after quit, want EOF", rest)
			}
			if reason := waitLost(t, lost, 3*time.Second); !errors.Is(reason, transport.ErrConnectionDone) {
				t.Fatalf("reason %v, want ErrConnectionDone", reason)
			}
			for deadline := time.Now().Add(2 * time.Second); wf.Open() != 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the wrapping factory still counts %d open connections", wf.Open())
				}
			}
			// A new connection is served (LimitTotalConnections gave the place back).
			roundTrip(t, dial(t, p), "again")
		})
	}
}

// lostConn is a connection's ConnectionLost, tagged with its transport.
type lostConn struct {
	tr     transport.Transport
	reason error
}

// stopper stops the reactor (from its loop) when it receives "stop".
type stopper struct {
	protocol.Base
	r    *reactor.Reactor
	ctx  func() context.Context
	made chan transport.Transport
	lost chan lostConn
}

func (s *stopper) ConnectionMade() { s.made <- s.Transport() }

func (s *stopper) DataReceived(data []byte) {
	if string(data) == "stop" {
		s.r.Stop(s.ctx())
	}
}

func (s *stopper) ConnectionLost(reason error) { s.lost <- lostConn{s.Transport(), reason} }

// Stop called from a callback keeps its context's deadline: a connection that
// cannot close (its peer reads nothing, or its producer never unregisters) is
// aborted at the deadline and Run returns. The old reactor dropped the
// deadline (context.WithoutCancel) and waited for the drain timeout, or for
// ever.
func TestStopFromCallbackKeepsDeadline(t *testing.T) {
	for _, stall := range []string{"unread output", "producer never unregisters"} {
		t.Run(stall, func(t *testing.T) {
			made := make(chan transport.Transport, 4)
			lost := make(chan lostConn, 4)
			var r *reactor.Reactor
			f := factory.ForProtocol(func() protocol.Protocol {
				return &stopper{r: r, made: made, lost: lost, ctx: func() context.Context {
					ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
					time.AfterFunc(time.Second, cancel)
					return ctx
				}}
			})
			r = reactor.New(reactor.WithLoops(2), reactor.WithWriteBufferSize(64<<10))
			p := listen(t, r, f)
			done := make(chan error, 1)
			go func() { done <- r.Run(context.Background()) }()

			stalled := dial(t, p)
			stalled.SetReadBuffer(16 << 10)
			var st transport.Transport
			select {
			case st = <-made:
			case <-time.After(5 * time.Second):
				t.Fatal("ConnectionMade not called")
			}
			prod := &idleProducer{}
			if stall == "unread output" {
				if _, err := st.Write(make([]byte, 8<<20)); err != nil { // never read
					t.Fatal(err)
				}
			} else if err := st.RegisterProducer(prod, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)

			c := dial(t, p)
			select {
			case <-made:
			case <-time.After(5 * time.Second):
				t.Fatal("ConnectionMade not called")
			}
			start := time.Now()
			if _, err := c.Write([]byte("stop")); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Run did not return %v after a Stop with a 300ms deadline", time.Since(start))
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Fatalf("Run returned %v after a Stop with a 300ms deadline", d)
			}
			for range 2 {
				var l lostConn
				select {
				case l = <-lost:
				case <-time.After(time.Second):
					t.Fatal("ConnectionLost missing after Run returned")
				}
				if l.tr != st {
					if !errors.Is(l.reason, transport.ErrConnectionDone) {
						t.Errorf("the stopping connection: reason %v, want ErrConnectionDone", l.reason)
					}
					continue
				}
				if !errors.Is(l.reason, transport.ErrConnectionAborted) || !errors.Is(l.reason, reactor.ErrStopDeadline) {
					t.Errorf("the stalled connection: reason %v, want ErrConnectionAborted wrapping ErrStopDeadline", l.reason)
				}
			}
			if stall != "unread output" && !prod.stopped.Load() {
				t.Error("StopProducing not called on the aborted connection's producer")
			}
		})
	}
}

// thenRecorder counts the calls of a DeferToGoroutine's then.
type thenRecorder struct {
	calls atomic.Int32
	first chan thenCall
}

type thenCall struct {
	res any
	err error
}

func newThenRecorder() *thenRecorder { return &thenRecorder{first: make(chan thenCall, 1)} }

func (r *thenRecorder) then(res any, err error) {
	if r.calls.Add(1) == 1 {
		r.first <- thenCall{res, err}
	}
}

// once waits for the first call and checks that no second one follows.
func (r *thenRecorder) once(t *testing.T, what string) thenCall {
	t.Helper()
	var call thenCall
	select {
	case call = <-r.first:
	case <-time.After(2 * time.Second):
		t.Fatalf("%s: then not called", what)
	}
	time.Sleep(100 * time.Millisecond)
	if n := r.calls.Load(); n != 1 {
		t.Fatalf("%s: then called %d times", what, n)
	}
	return call
}

// DeferToGoroutine after Stop calls then once, with ErrLoopStopped; a job
// still running when the reactor stops gets its then too (on the loop, or
// with ErrLoopStopped). The old reactor dropped then.
func TestDeferToGoroutineAfterStop(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	dial(t, p)
	loop := f.transport(t).Loop()

	// Jobs running across the stop.
	release := make(chan struct{})
	runningJobs := make(chan struct{}, 2)
	blocked := func() (any, error) {
		runningJobs <- struct{}{}
		<-release
		return "late", nil
	}
	lateReactor, lateConn := newThenRecorder(), newThenRecorder()
	r.DeferToGoroutine(blocked, lateReactor.then)
	loop.DeferToGoroutine(blocked, lateConn.then)
	for range 2 {
		select {
		case <-runningJobs:
		case <-time.After(2 * time.Second):
			t.Fatal("DeferToGoroutine's fn did not run")
		}
	}

	if err := r.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}

	afterReactor, afterConn := newThenRecorder(), newThenRecorder()
	r.DeferToGoroutine(func() (any, error) { return 1, nil }, afterReactor.then)
	loop.DeferToGoroutine(func() (any, error) { return 2, nil }, afterConn.then)
	for _, tc := range []struct {
		name string
		rec  *thenRecorder
	}{{"Reactor.DeferToGoroutine after Stop", afterReactor}, {"Loop().DeferToGoroutine after Stop", afterConn}} {
		if call := tc.rec.once(t, tc.name); !errors.Is(call.err, transport.ErrLoopStopped) {
			t.Errorf("%s: then(%v, %v), want ErrLoopStopped", tc.name, call.res, call.err)
		}
	}

	close(release)
	for _, tc := range []struct {
		name string
		rec  *thenRecorder
	}{{"Reactor.DeferToGoroutine across Stop", lateReactor}, {"Loop().DeferToGoroutine across Stop", lateConn}} {
		call := tc.rec.once(t, tc.name)
		if !errors.Is(call.err, transport.ErrLoopStopped) && (call.err != nil || call.res != "late") {
			t.Errorf("%s: then(%v, %v), want the result or ErrLoopStopped", tc.name, call.res, call.err)
		}
	}

	if err := loop.CallSoon(func() {}); !errors.Is(err, transport.ErrLoopStopped) {
		t.Errorf("CallSoon after Stop: %v, want ErrLoopStopped", err)
	}
	if err := r.CallFromGoroutine(func() {}); !errors.Is(err, reactor.ErrStopped) {
		t.Errorf("CallFromGoroutine after Stop: %v, want ErrStopped", err)
	}
}

// stateProbe records Connected and Disconnecting at each step of a connection
// that loses itself in ConnectionMade.
type stateProbe struct {
	protocol.Base
	states chan [2]bool
	done   chan struct{}
}

func (s *stateProbe) ConnectionMade() {
	tr := s.Transport()
	s.states <- [2]bool{tr.Connected(), tr.Disconnecting()}
	tr.Write([]byte("bye"))
	tr.LoseConnection()
	s.states <- [2]bool{tr.Connected(), tr.Disconnecting()}
}

func (s *stateProbe) ConnectionLost(error) {
	tr := s.Transport()
	s.states <- [2]bool{tr.Connected(), tr.Disconnecting()}
	close(s.done)
}

func TestConnectedDisconnectingStates(t *testing.T) {
	t.Run("LoseConnection on the loop", func(t *testing.T) {
		probe := &stateProbe{states: make(chan [2]bool, 3), done: make(chan struct{})}
		r := reactor.New(reactor.WithLoops(1))
		p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return probe }))
		running(t, r)
		c := dial(t, p)
		if got := readEOF(t, c, 5*time.Second); string(got) != "bye" {
			t.Fatalf("read %q, want bye", got)
		}
		select {
		case <-probe.done:
		case <-time.After(5 * time.Second):
			t.Fatal("ConnectionLost not called")
		}
		for i, want := range [][2]bool{{true, false}, {false, true}, {false, true}} {
			got := <-probe.states
			step := []string{"in ConnectionMade", "after LoseConnection", "in ConnectionLost"}[i]
			if got != want {
				t.Errorf("%s: Connected()=%v Disconnecting()=%v, want %v %v", step, got[0], got[1], want[0], want[1])
			}
		}
	})

	t.Run("LoseConnection from another goroutine", func(t *testing.T) {
		f := newRecorderFactory(nil)
		r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(16<<10))
		p := listen(t, r, f)
		running(t, r)
		c := dial(t, p)
		c.SetReadBuffer(16 << 10)
		tr := f.transport(t)
		if !tr.Connected() || tr.Disconnecting() {
			t.Fatalf("open: Connected()=%v Disconnecting()=%v", tr.Connected(), tr.Disconnecting())
		}
		tr.Write(make([]byte, 1<<20)) // keeps the close waiting for the reader
		tr.LoseConnection()
		if tr.Connected() || !tr.Disconnecting() {
			t.Fatalf("right after LoseConnection: Connected()=%v Disconnecting()=%v", tr.Connected(), tr.Disconnecting())
		}
		if got := readEOF(t, c, 10*time.Second); len(got) != 1<<20 {
			t.Fatalf("read %d bytes, want %d", len(got), 1<<20)
		}
		if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
			t.Fatalf("reason %v", reason)
		}
		if tr.Connected() || !tr.Disconnecting() {
			t.Fatalf("closed: Connected()=%v Disconnecting()=%v", tr.Connected(), tr.Disconnecting())
		}
	})
}

// A Write from another goroutine that takes the buffered output past the hard
// cap fails with ErrWriteBufferOverflow, later ones fail too, and the
// connection is aborted with that reason.
func TestWriteOverflowFromAnotherGoroutine(t *testing.T) {
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithMaxWriteBuffer(256<<10), reactor.WithWriteBufferSize(16<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(16 << 10) // and never read
	tr := f.transport(t)
	chunk := make([]byte, 32<<10)
	var err error
	var n int
	for i := 0; i < 4096 && err == nil; i++ { // 128 MiB at most: far past any socket buffer
		n, err = tr.Write(chunk)
	}
	if !errors.Is(err, transport.ErrWriteBufferOverflow) || n != 0 {
		t.Fatalf("the failing Write: %d, %v; want 0, ErrWriteBufferOverflow", n, err)
	}
	if n, err := tr.Write([]byte("more")); err == nil || n != 0 {
		t.Fatalf("Write after the overflow: %d, %v; want 0 and an error", n, err)
	}
	reason := f.reason(t)
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.Is(reason, transport.ErrWriteBufferOverflow) {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping ErrWriteBufferOverflow", reason)
	}
	if n, err := tr.Write([]byte("late")); n != 0 || !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Write after the abort: %d, %v; want 0, ErrClosed", n, err)
	}
}

// midPause pauses its transport from inside DataReceived once it has
// received pauseAt bytes, and records DataReceived calls made while paused.
type midPause struct {
	protocol.Base
	pauseAt  int
	paused   chan transport.Transport
	resumed  *atomic.Bool
	mu       *sync.Mutex
	got      *bytes.Buffer
	early    *atomic.Int32 // DataReceived while paused
	didPause bool
}

func (m *midPause) DataReceived(data []byte) {
	if m.didPause && !m.resumed.Load() {
		m.early.Add(1)
	}
	m.mu.Lock()
	m.got.Write(data)
	n := m.got.Len()
	m.mu.Unlock()
	if !m.didPause && n >= m.pauseAt {
		m.didPause = true
		m.Transport().PauseProducing()
		m.paused <- m.Transport()
	}
}

// PauseProducing called inside DataReceived in the middle of a flood stops
// delivery at once and pushes the client back; ResumeProducing from another
// goroutine delivers the rest, nothing lost or reordered.
func TestPauseInsideDataReceivedResumeFromGoroutine(t *testing.T) {
	const total = 16 << 20
	var (
		mu      sync.Mutex
		got     bytes.Buffer
		resumed atomic.Bool
		early   atomic.Int32
	)
	paused := make(chan transport.Transport, 1)
	f := factory.ForProtocol(func() protocol.Protocol {
		return &midPause{pauseAt: 1 << 20, paused: paused, resumed: &resumed, mu: &mu, got: &got, early: &early}
	})
	r := reactor.New(reactor.WithLoops(2), reactor.WithReadBufferSize(64<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetWriteBuffer(64 << 10)
	w := startWriter(c, total)
	var tr transport.Transport
	select {
	case tr = <-paused:
	case <-time.After(10 * time.Second):
		t.Fatal("the protocol never paused")
	}
	mu.Lock()
	atPause := got.Len()
	mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	afterWait := got.Len()
	mu.Unlock()
	if afterWait != atPause || early.Load() != 0 {
		t.Fatalf("DataReceived ran %d times while paused (%d bytes at the pause, %d after 200ms)", early.Load(), atPause, afterWait)
	}
	if written := w.written.Load(); written > int64(atPause)+8<<20 {
		t.Fatalf("the client wrote %d bytes, %d past the pause: reading was not stopped", written, written-int64(atPause))
	}
	resumed.Store(true)
	tr.ResumeProducing()
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("writer stuck after %d bytes", w.written.Load())
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := got.Len()
		mu.Unlock()
		if n >= total || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Len() != total {
		t.Fatalf("received %d bytes, want %d", got.Len(), total)
	}
	if !bytes.Equal(got.Bytes(), pattern(0, total)) {
		i := 0
		for i < total && got.Bytes()[i] == pattern(i, 1)[0] {
			i++
		}
		t.Fatalf("bytes differ from what was sent from offset %d", i)
	}
}

// With two loops, connections are spread evenly: each loop (told apart by
// the goroutine that runs ConnectionMade: a loop is one goroutine) gets
// between 40% and 60% of 200 open connections.
func TestConnectionsBalancedOverLoops(t *testing.T) {
	const n = 200
	ids := make(chan uint64, n)
	f := factory.ForProtocol(func() protocol.Protocol { return &loopReporter{ids: ids} })
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	running(t, r)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 4 {
				c, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
	}
	wg.Wait()
	perLoop := map[uint64]int{}
	for range n {
		select {
		case id := <-ids:
			perLoop[id]++
		case <-time.After(5 * time.Second):
			t.Fatalf("only %v connections made", perLoop)
		}
	}
	if len(perLoop) != 2 {
		t.Fatalf("connections on %d loop goroutines, want 2: %v", len(perLoop), perLoop)
	}
	for id, k := range perLoop {
		if k < n*40/100 || k > n*60/100 {
			t.Errorf("loop goroutine %d has %d of %d connections, want 40%%..60%%: %v", id, k, n, perLoop)
		}
	}
}

type loopReporter struct {
	protocol.Base
	ids chan uint64
}

func (l *loopReporter) ConnectionMade() { l.ids <- goid() }

// Without HalfCloseable, the peer's FIN ends the connection only once the
// output written so far has drained: a client that half-closes and then
// starts reading late gets all of it, then EOF.
func TestPeerFINWithoutHalfCloseableDrainsOutput(t *testing.T) {
	const size = 1 << 20
	f := newRecorderFactory(nil)
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(64<<10))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	c.SetReadBuffer(64 << 10)
	tr := f.transport(t)
	if _, err := tr.Write(pattern(0, size)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the kernel holds what it can; whirl the rest
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a slow-starting reader
	select {
	case reason := <-f.lost:
		t.Fatalf("closed before the output drained: %v", reason)
	default:
	}
	got := readEOF(t, c, 10*time.Second)
	if len(got) != size || !bytes.Equal(got, pattern(0, size)) {
		t.Fatalf("read %d bytes (in order: %v), want %d", len(got), bytes.Equal(got, pattern(0, len(got))), size)
	}
	if reason := f.reason(t); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}

// A DeferToGoroutine made before Run, on a reactor stopped without ever
// running: its fn runs on the pool, and then, which can no longer run on a
// loop, is still called once, with ErrLoopStopped (then is never dropped).
func TestDeferToGoroutineOnAReactorStoppedBeforeRun(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	ran := make(chan struct{})
	rec := newThenRecorder()
	r.DeferToGoroutine(func() (any, error) { close(ran); return 1, nil }, rec.then)
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		t.Fatal("fn did not run")
	}
	time.Sleep(20 * time.Millisecond) // fn returned: then waits for a loop
	if err := r.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := r.Run(context.Background()); !errors.Is(err, reactor.ErrStopped) {
		t.Fatalf("Run after Stop: %v, want ErrStopped", err)
	}
	if call := rec.once(t, "then of a job queued before Run"); !errors.Is(call.err, transport.ErrLoopStopped) {
		t.Fatalf("then(%v, %v), want ErrLoopStopped", call.res, call.err)
	}
}
