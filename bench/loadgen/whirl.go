package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// stopTimeout bounds RunWhirl's reactor Stop at the end of a run: every
// connection is then drained or aborted already, so it has nothing to wait
// for but its FIN.
const stopTimeout = 5 * time.Second

// RunWhirl is Run on whirl's own client instead of a goroutine per
// connection: cfg.Conns connections made with reactor.ConnectTCP (or
// ConnectUnix for a "unix:" cfg.Addr) on one reactor of cfg.Loops event loops (0: GOMAXPROCS), each a protocol that
// keeps cfg.Depth messages of cfg.Size bytes in flight. Messages, checks,
// phases (warm-up, window, drain) and the Result are Run's, so the two
// clients measure the same thing; Result.Client is ClientWhirl. The
// connections are made at most cfg.DialConcurrency at a time, each attempt
// bounded by cfg.DialTimeout; a failed one is an error, as in Run. It
// returns once every connection and the reactor have stopped. Any
// goroutine.
func RunWhirl(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(true); err != nil {
		return Result{}, err
	}
	loops := cfg.Loops
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	g := &run{cfg: cfg, epoch: time.Now()}
	wr := &whirlRun{
		g:       g,
		r:       reactor.New(reactor.WithLoops(loops)),
		tallies: make(map[transport.Clock]*tally),
		made:    make(chan dialReport, cfg.Conns),
		sem:     make(chan struct{}, cfg.dialConcurrency()),
		done:    make(chan struct{}),
	}
	wr.live.Store(int64(cfg.Conns))
	ran := make(chan struct{})
	go func() { defer close(ran); _ = wr.r.Run(context.Background()) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		_ = wr.r.Stop(sctx)
		cancel()
		<-ran
	}()

	conns, err := wr.connectAll(ctx)
	if err != nil {
		return Result{}, err
	}
	for _, w := range conns {
		if err := w.loop.CallSoon(w.start); err != nil {
			return Result{}, fmt.Errorf("loadgen: start connection %d: %w", w.id, err)
		}
	}
	elapsed, werr := g.window(ctx)
	// The connections stop sending and wait for what is in flight; those
	// still waiting after the drain timeout have echoes missing.
	g.drain(ctx, wr.done, func() {
		for _, w := range conns {
			// An error means the loop is gone, and the connection with
			// it: it was counted out when it closed.
			_ = w.loop.CallSoon(w.giveUp)
		}
	})

	res := Result{Mode: "echo", Client: ClientWhirl, Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.depth(), Elapsed: elapsed}
	var h Histogram
	wr.mu.Lock()
	for _, t := range wr.tallies {
		h.Merge(&t.hist)
		res.Messages += t.msgs
	}
	wr.mu.Unlock()
	for _, w := range conns {
		res.Verified += w.verified
		if w.verified == 0 {
			res.Silent++
		}
	}
	res.Errors, res.Mismatches, res.FirstError = g.errs, g.mismatch, g.first
	res.ClientCPU, res.ClientMallocs = g.usage.cpu, g.usage.mallocs
	res.finish(&h)
	return res, werr
}

// whirlRun is the state of one RunWhirl shared by its loops and the
// goroutine that called it.
type whirlRun struct {
	g *run
	r *reactor.Reactor

	// mu guards tallies, which the loops fill as their first connection
	// starts; each tally is then owned by its loop until the run ends.
	mu      sync.Mutex
	tallies map[transport.Clock]*tally

	made chan dialReport // one report per connector: made or failed
	sem  chan struct{}   // attempts in progress
	live atomic.Int64    // connections not yet finished
	done chan struct{}   // closed when live reaches 0
	once sync.Once       // closes done
}

// dialReport is how an attempt ended: w is nil when it failed with err.
type dialReport struct {
	w   *whirlConn
	id  int
	err error
}

// connectAll makes every connection, at most cfg.dialConcurrency attempts
// at a time, and returns them once all are made, or the first failure.
func (wr *whirlRun) connectAll(ctx context.Context) ([]*whirlConn, error) {
	cfg := &wr.g.cfg
	conns := make([]*whirlConn, cfg.Conns)
	started, reported := 0, 0
	var first error
	note := func(rep dialReport) {
		reported++
		if rep.err != nil {
			if first == nil {
				first = fmt.Errorf("loadgen: dial %d of %d: %w", rep.id+1, cfg.Conns, rep.err)
			}
			return
		}
		conns[rep.id] = rep.w
	}
	for i := range conns {
		// Take a slot, noting the reports that come in meanwhile.
		for taken := false; !taken && first == nil; {
			select {
			case wr.sem <- struct{}{}:
				taken = true
			case rep := <-wr.made:
				note(rep)
			}
		}
		if first != nil {
			break
		}
		w := newWhirlConn(i, wr)
		f := &whirlFactory{w: w}
		if err := wr.connect(ctx, f); err != nil {
			<-wr.sem
			first = fmt.Errorf("loadgen: dial %d of %d: %w", i+1, cfg.Conns, err)
			break
		}
		started++
	}
	for reported < started {
		note(<-wr.made)
	}
	if first != nil {
		return nil, first
	}
	return conns, nil
}

// connect starts one connection to cfg.Addr, over TCP or a UNIX socket.
func (wr *whirlRun) connect(ctx context.Context, f *whirlFactory) error {
	timeout := reactor.WithConnectTimeout(wr.g.cfg.dialTimeout())
	if network, address := splitAddr(wr.g.cfg.Addr); network == "unix" {
		_, err := wr.r.ConnectUnix(ctx, address, f, timeout)
		return err
	}
	_, err := wr.r.ConnectTCP(ctx, wr.g.cfg.Addr, f, timeout)
	return err
}

// loopTally returns the tally of the loop whose clock is c.
func (wr *whirlRun) loopTally(c transport.Clock) *tally {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	t := wr.tallies[c]
	if t == nil {
		t = new(tally)
		wr.tallies[c] = t
	}
	return t
}

// finished counts a connection out. Its loop, once per connection.
func (wr *whirlRun) finished() {
	if wr.live.Add(-1) == 0 {
		wr.once.Do(func() { close(wr.done) })
	}
}

// whirlFactory is the client factory of one connection: it hands out the
// connection's protocol and reports how the attempt ended.
type whirlFactory struct {
	factory.ClientBase
	w *whirlConn
}

// StartedConnecting binds the connection to its loop's tally. Connector's
// loop.
func (f *whirlFactory) StartedConnecting(c factory.Connector) {
	f.w.lt = f.w.wr.loopTally(c.Clock())
}

// BuildProtocol returns the connection's protocol. Connector's loop.
func (f *whirlFactory) BuildProtocol(net.Addr) protocol.Protocol { return f.w }

// ClientConnectionFailed reports the failed attempt. Connector's loop.
func (f *whirlFactory) ClientConnectionFailed(_ factory.Connector, reason error) {
	<-f.w.wr.sem
	f.w.wr.made <- dialReport{id: f.w.id, err: reason}
	f.w.wr.finished()
}

// whirlConn is one connection of RunWhirl: a protocol that keeps depth
// messages in flight. Its fields belong to its loop, except verified, read
// once the run is over.
type whirlConn struct {
	protocol.Base
	id          int
	wr          *whirlRun
	g           *run
	loop        transport.Loop
	lt          *tally // the loop's: histogram and messages of the window
	size, depth int
	pat         []byte          // the connection's message template
	out         []byte          // messages being written
	part        []byte          // a message that arrived in pieces
	have        int             // bytes of it in part
	sent        []time.Duration // send time of message seq, at seq % depth
	next        uint64          // next message to send
	recv        uint64          // next message expected back
	verified    int64           // echoes verified over the whole run
	over        bool            // finished: counted out of the run
}

func newWhirlConn(id int, wr *whirlRun) *whirlConn {
	cfg := &wr.g.cfg
	depth := cfg.depth()
	return &whirlConn{
		id: id, wr: wr, g: wr.g, size: cfg.Size, depth: depth,
		pat:  pattern(id, cfg.Size),
		out:  make([]byte, depth*cfg.Size),
		part: make([]byte, cfg.Size),
		sent: make([]time.Duration, depth),
	}
}

// ConnectionMade reports the connection made; it waits for start to send.
// Its loop.
func (w *whirlConn) ConnectionMade() {
	w.loop = w.Transport().Loop()
	<-w.wr.sem
	w.wr.made <- dialReport{w: w, id: w.id}
}

// start sends the first depth messages. Its loop.
func (w *whirlConn) start() {
	if !w.over {
		w.send(w.depth)
	}
}

// send writes the next k messages in one write.
func (w *whirlConn) send(k int) {
	now := w.g.since()
	for i := 0; i < k; i++ {
		fill(w.out[i*w.size:(i+1)*w.size], w.pat, w.next)
		w.sent[w.next%uint64(w.depth)] = now
		w.next++
	}
	if _, err := w.Transport().Write(w.out[:k*w.size]); err != nil {
		w.fail(fmt.Errorf("loadgen: connection %d after %d echoes: write: %w", w.id, w.verified, err))
	}
}

// DataReceived verifies the echoes that data completes, records their
// round trips, and sends as many new messages unless the window is over.
// Its loop.
func (w *whirlConn) DataReceived(data []byte) {
	if w.over {
		return
	}
	now := w.g.since()
	measuring := w.g.phase.Load() == phaseMeasure
	k := 0
	for len(data) > 0 {
		var m []byte
		if w.have > 0 || len(data) < w.size {
			n := copy(w.part[w.have:], data)
			w.have += n
			data = data[n:]
			if w.have < w.size {
				break
			}
			m, w.have = w.part, 0
		} else {
			m, data = data[:w.size], data[w.size:]
		}
		if mm := verify(m, w.pat, w.id, w.recv); mm != nil {
			w.fail(mm)
			return
		}
		if w.recv == w.next {
			// The server sent back a message before it was sent: only a
			// server that makes them up could.
			w.fail(fmt.Errorf("loadgen: connection %d after %d echoes: more echoed than sent", w.id, w.verified))
			return
		}
		if measuring {
			w.lt.hist.Record(now - w.sent[w.recv%uint64(w.depth)])
			w.lt.msgs++
		}
		w.verified++
		w.recv++
		k++
	}
	if w.g.phase.Load() == phaseStop {
		if w.recv == w.next && w.have == 0 {
			w.finish() // every message came back
		}
		return
	}
	if k > 0 {
		w.send(k)
	}
}

// ConnectionLost records an end that came before the drain was over. Its
// loop.
func (w *whirlConn) ConnectionLost(reason error) {
	if w.over {
		return
	}
	var err error
	switch {
	case w.g.drainOver.Load():
		err = fmt.Errorf("%d of the messages sent not echoed back in full", w.next-w.recv)
	case errors.Is(reason, transport.ErrConnectionDone):
		err = io.ErrUnexpectedEOF
	default:
		err = reason
	}
	w.g.failed(fmt.Errorf("loadgen: connection %d after %d echoes: %w", w.id, w.verified, err))
	w.finish()
}

// giveUp ends a connection still waiting for echoes once the drain is
// over. Its loop.
func (w *whirlConn) giveUp() {
	if w.over {
		return
	}
	w.fail(fmt.Errorf("loadgen: connection %d after %d echoes: %d of the messages sent not echoed back in full",
		w.id, w.verified, w.next-w.recv))
}

// fail records err and aborts the connection. Its loop.
func (w *whirlConn) fail(err error) {
	w.g.failed(err)
	w.finish()
	w.Transport().AbortConnection()
}

// finish counts the connection out of the run, once. Its loop.
func (w *whirlConn) finish() {
	if !w.over {
		w.over = true
		w.wr.finished()
	}
}
