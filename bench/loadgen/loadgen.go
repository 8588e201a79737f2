package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the generator.
var (
	// ErrConfig is wrapped by the error returned for an unusable Config.
	ErrConfig = errors.New("loadgen: bad configuration")
)

// Phase is a stage of a run, reported through Config.OnPhase.
type Phase int

// The phases of a run, in order. Warm-up starts once every connection is
// open; what happens during it is verified but not counted.
const (
	// PhaseMeasure starts the measurement window.
	PhaseMeasure Phase = iota + 1
	// PhaseEnd ends the measurement window; the run then stops its
	// connections and returns.
	PhaseEnd
)

// String names the phase. Any goroutine.
func (p Phase) String() string {
	switch p {
	case PhaseMeasure:
		return "measure"
	case PhaseEnd:
		return "end"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// Config describes one run of the generator.
type Config struct {
	// Addr is the echo server's host:port, or UnixPrefix and the path of
	// its UNIX socket ("unix:/tmp/bench/s.sock").
	Addr string
	// Conns is the number of connections (Run, Hold), or of concurrent
	// connect–echo–close loops (Setup). Each has its own goroutine.
	Conns int
	// Size is the size of each message in bytes, delimiter included; at
	// least MinSize.
	Size int
	// Depth is the number of messages kept in flight on each connection by
	// Run: 1 (or 0) is ping-pong, more is pipelining.
	Depth int
	// Warmup is how long Run and Setup run before the measurement window.
	Warmup time.Duration
	// Duration is the length of the measurement window.
	Duration time.Duration
	// DialConcurrency bounds the dials in progress while Run and Hold open
	// their connections. 0 means 64.
	DialConcurrency int
	// DialTimeout bounds each dial and, in Setup and Hold, each round trip.
	// 0 means 10 s.
	DialTimeout time.Duration
	// DrainTimeout bounds how long Run waits, after the window, for the
	// echoes of the messages still in flight; a connection still missing
	// some then counts as an error. 0 means 5 s.
	DrainTimeout time.Duration
	// OnPhase, if not nil, is called as the measurement window opens and
	// closes, on the goroutine that called Run, RunWhirl or Setup.
	OnPhase func(Phase)
	// Loops is the number of event loops of RunWhirl's reactor; 0 means
	// GOMAXPROCS. Run, Setup and Hold (a goroutine per connection) do not
	// use it.
	Loops int
}

func (cfg *Config) check(needDuration bool) error {
	if err := checkAddr(cfg.Addr); err != nil {
		return err
	}
	switch {
	case cfg.Conns <= 0:
		return fmt.Errorf("%w: %d connections", ErrConfig, cfg.Conns)
	case cfg.Size < MinSize:
		return fmt.Errorf("%w: message size %d is below %d", ErrConfig, cfg.Size, MinSize)
	case cfg.Depth < 0:
		return fmt.Errorf("%w: depth %d", ErrConfig, cfg.Depth)
	case needDuration && cfg.Duration <= 0:
		return fmt.Errorf("%w: duration %v", ErrConfig, cfg.Duration)
	}
	return nil
}

func (cfg *Config) depth() int { return max(cfg.Depth, 1) }

func (cfg *Config) dialTimeout() time.Duration {
	if cfg.DialTimeout > 0 {
		return cfg.DialTimeout
	}
	return 10 * time.Second
}

func (cfg *Config) drainTimeout() time.Duration {
	if cfg.DrainTimeout > 0 {
		return cfg.DrainTimeout
	}
	return 5 * time.Second
}

func (cfg *Config) dialConcurrency() int {
	if cfg.DialConcurrency > 0 {
		return cfg.DialConcurrency
	}
	return 64
}

// Result is what a run measured. Durations are in nanoseconds in JSON.
type Result struct {
	// Mode is "echo" (Run), "setup" (Setup), "idle" (Hold) or "udp"
	// (RunUDP).
	Mode  string `json:"mode"`
	Conns int    `json:"conns"`
	Size  int    `json:"size"`
	Depth int    `json:"depth,omitempty"`
	// Elapsed is the measured length of the window.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Messages is the number of messages echoed and verified in the window
	// (Setup: connections opened, echoed once and closed).
	Messages int64 `json:"messages"`
	// Bytes is Messages × Size: each echoed byte counted once.
	Bytes int64 `json:"bytes"`
	// PerSec is Messages per second of the window; MBPerSec is Bytes per
	// second, in units of 10^6 bytes.
	PerSec   float64 `json:"per_sec"`
	MBPerSec float64 `json:"mb_per_sec"`
	// Latency of the messages of the window, from the write of a message
	// to the read that completed its echo (Setup: from the dial to the
	// close). From a log-bucketed Histogram.
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
	// Verified is the number of echoes compared byte for byte over the
	// whole run, warm-up included.
	Verified int64 `json:"verified"`
	// Mismatches counts echoes that differed from what was sent; a
	// connection stops at its first.
	Mismatches int64 `json:"mismatches"`
	// Errors counts connections (Setup: attempts) that failed for another
	// reason: a refused dial, a reset, a timeout, an early EOF.
	Errors int64 `json:"errors"`
	// FirstError describes the first mismatch or error, if any.
	FirstError string `json:"first_error,omitempty"`
	// Silent counts connections that never got a complete echo.
	Silent int `json:"silent"`
	// Lost counts UDP datagrams sent and never echoed (RunUDP): dropped by
	// a socket buffer on either side. Not a failure of OK.
	Lost int64 `json:"lost,omitempty"`
	// Client names the load generator: ClientGoroutine (Run, Setup, Hold)
	// or ClientWhirl (RunWhirl).
	Client string `json:"client,omitempty"`
	// ClientCPU is the CPU time (user + system, every thread) the process
	// running the generator used during the window, from
	// getrusage(RUSAGE_SELF). It is the generator's own cost only when
	// nothing else runs in that process (the bench's client subcommand);
	// 0 where it could not be read, and for Hold.
	ClientCPU time.Duration `json:"client_cpu_ns"`
	// ClientMallocs is the number of heap allocations the process made
	// during the window (runtime.MemStats.Mallocs), with the same caveat.
	ClientMallocs uint64 `json:"client_mallocs"`
}

// OK reports whether every echo matched, nothing failed and every
// connection was answered. Any goroutine.
func (r *Result) OK() bool {
	return r.Mismatches == 0 && r.Errors == 0 && r.Silent == 0 && r.Verified > 0
}

func (r *Result) finish(h *Histogram) {
	r.Bytes = r.Messages * int64(r.Size)
	if s := r.Elapsed.Seconds(); s > 0 {
		r.PerSec = float64(r.Messages) / s
		r.MBPerSec = float64(r.Bytes) / s / 1e6
	}
	r.P50, r.P99, r.P999 = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999)
	r.Max, r.Mean = h.Max(), h.Mean()
}

const (
	phaseWarm int32 = iota
	phaseMeasure
	phaseStop
)

// run is the state shared by the goroutines of one run.
type run struct {
	cfg   Config
	epoch time.Time
	phase atomic.Int32
	// drainOver is set when Run stops waiting for the echoes in flight.
	drainOver atomic.Bool
	// usage is what the process used during the window; written by
	// window, read once it returned.
	usage usage

	mu       sync.Mutex
	errs     int64
	mismatch int64
	first    string
}

func (g *run) since() time.Duration { return time.Since(g.epoch) }

func (g *run) failed(err error) {
	var mm *MismatchError
	g.mu.Lock()
	if errors.As(err, &mm) {
		g.mismatch++
	} else {
		g.errs++
	}
	if g.first == "" {
		g.first = err.Error()
	}
	g.mu.Unlock()
}

// window runs the warm-up and the measurement window, then sets phaseStop. It
// returns the window's length, or ctx's error if ctx ended first.
func (g *run) window(ctx context.Context) (time.Duration, error) {
	sleep := func(d time.Duration) error {
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := sleep(g.cfg.Warmup); err != nil {
		g.phase.Store(phaseStop)
		return 0, err
	}
	u0 := readUsage()
	start := time.Now()
	g.phase.Store(phaseMeasure)
	if g.cfg.OnPhase != nil {
		g.cfg.OnPhase(PhaseMeasure)
	}
	err := sleep(g.cfg.Duration)
	g.phase.Store(phaseStop)
	elapsed := time.Since(start)
	g.usage = readUsage().sub(u0)
	if g.cfg.OnPhase != nil {
		g.cfg.OnPhase(PhaseEnd)
	}
	return elapsed, err
}

// dialAll opens n connections, at most cfg.dialConcurrency at a time.
// Each is a TCP connection, or a UNIX one for a "unix:" Config.Addr.
func dialAll(ctx context.Context, cfg *Config, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	network, address := splitAddr(cfg.Addr)
	d := net.Dialer{Timeout: cfg.dialTimeout()}
	sem := make(chan struct{}, cfg.dialConcurrency())
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range conns {
		sem <- struct{}{}
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := d.DialContext(ctx, network, address)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("loadgen: dial %d of %d: %w", i+1, n, err)
				}
				mu.Unlock()
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(conns)
		return nil, first
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// Run opens cfg.Conns connections to an echo server, then on each, on its own
// goroutine, keeps cfg.Depth messages of cfg.Size bytes in flight: it writes
// them, reads the echoes, compares every byte with what it sent, and sends a
// new message for each one echoed. It warms up for cfg.Warmup, measures for
// cfg.Duration, then stops sending and waits (up to cfg.DrainTimeout) for
// every message still in flight to come back, and returns what it measured. A connection that gets a wrong
// byte, or fails, stops; the Result counts it. The error is for a run that
// could not be made at all (a bad Config, a failed dial, ctx ending). Any
// goroutine.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(true); err != nil {
		return Result{}, err
	}
	conns, err := dialAll(ctx, &cfg, cfg.Conns)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)

	g := &run{cfg: cfg, epoch: time.Now()}
	workers := make([]*echoConn, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		w := newEchoConn(i, c, cfg.Size, cfg.depth())
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(g) }()
	}
	elapsed, werr := g.window(ctx)
	g.drainConns(ctx, &wg, conns)

	res := Result{Mode: "echo", Client: ClientGoroutine, Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.depth(), Elapsed: elapsed}
	tallies := make([]*tally, len(workers))
	for i, w := range workers {
		tallies[i] = &w.tally
	}
	res.collect(tallies, g)
	return res, werr
}

// drain waits, after the window, for the workers to finish what is in
// flight: until done is closed, the drain timeout passes or ctx ends. Then
// it marks the drain over, calls wake to stop those still waiting (their
// echoes are missing), and waits for done. Caller's goroutine.
func (g *run) drain(ctx context.Context, done <-chan struct{}, wake func()) {
	t := time.NewTimer(g.cfg.drainTimeout())
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	g.drainOver.Store(true)
	wake()
	<-done
}

// drainConns is drain for workers that are goroutines, one per connection
// of conns, counted by wg: a deadline in the past wakes those still reading.
// Caller's goroutine.
func (g *run) drainConns(ctx context.Context, wg *sync.WaitGroup, conns []net.Conn) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	g.drain(ctx, done, func() {
		for _, c := range conns {
			_ = c.SetDeadline(time.Now())
		}
	})
}

// tally is what one worker counted, owned by its goroutine until it ends.
type tally struct {
	hist     Histogram
	msgs     int64 // echoed in the window
	verified int64 // echoed over the whole run
}

// collect adds up the workers' tallies and the group's errors into r.
func (r *Result) collect(tallies []*tally, g *run) {
	var h Histogram
	for _, w := range tallies {
		h.Merge(&w.hist)
		r.Messages += w.msgs
		r.Verified += w.verified
		if w.verified == 0 {
			r.Silent++
		}
	}
	r.Errors, r.Mismatches, r.FirstError = g.errs, g.mismatch, g.first
	r.ClientCPU, r.ClientMallocs = g.usage.cpu, g.usage.mallocs
	r.finish(&h)
}

// echoConn is one connection of Run, owned by its goroutine.
type echoConn struct {
	id          int
	c           net.Conn
	size, depth int
	pat         []byte          // the connection's message template
	out         []byte          // messages being written
	in          []byte          // echoes being read
	sent        []time.Duration // send time of message seq, at seq % depth
	next        uint64          // next message to send
	recv        uint64          // next message expected back
	tally
}

func newEchoConn(id int, c net.Conn, size, depth int) *echoConn {
	// The read buffer holds at least two messages and at most what can be
	// in flight, bounded to keep 1000 connections small.
	inLen := max(min(max(depth*size, 4096), 64<<10), 2*size)
	return &echoConn{
		id: id, c: c, size: size, depth: depth,
		pat:  pattern(id, size),
		out:  make([]byte, depth*size),
		in:   make([]byte, inLen),
		sent: make([]time.Duration, depth),
	}
}

// send writes the next k messages in one write.
func (w *echoConn) send(g *run, k int) error {
	now := g.since()
	for i := 0; i < k; i++ {
		fill(w.out[i*w.size:(i+1)*w.size], w.pat, w.next)
		w.sent[w.next%uint64(w.depth)] = now
		w.next++
	}
	_, err := w.c.Write(w.out[:k*w.size])
	return err
}

func (w *echoConn) run(g *run) {
	if err := w.send(g, w.depth); err != nil {
		w.end(g, err)
		return
	}
	have := 0
	for {
		n, err := w.c.Read(w.in[have:])
		if n > 0 {
			now := g.since()
			measuring := g.phase.Load() == phaseMeasure
			have += n
			off, k := 0, 0
			for have-off >= w.size {
				m := w.in[off : off+w.size]
				if mm := verify(m, w.pat, w.id, w.recv); mm != nil {
					g.failed(mm)
					return
				}
				if measuring {
					w.hist.Record(now - w.sent[w.recv%uint64(w.depth)])
					w.msgs++
				}
				w.verified++
				w.recv++
				off += w.size
				k++
			}
			if off > 0 {
				have = copy(w.in, w.in[off:have])
			}
			if g.phase.Load() == phaseStop {
				if w.recv == w.next && have == 0 {
					return // every message came back
				}
			} else if k > 0 {
				if werr := w.send(g, k); werr != nil {
					w.end(g, werr)
					return
				}
			}
		}
		if err != nil {
			w.end(g, err)
			return
		}
	}
}

// end records why a connection stopped.
func (w *echoConn) end(g *run, err error) { g.ended(w.id, w.next-w.recv, &w.tally, err) }

// ended records why echo connection id stopped, with unanswered messages
// sent and not echoed back: past the drain that is the failure, and an EOF
// before it is unexpected.
func (g *run) ended(id int, unanswered uint64, t *tally, err error) {
	if g.drainOver.Load() {
		err = fmt.Errorf("%d of the messages sent not echoed back in full", unanswered)
	} else if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	g.failed(fmt.Errorf("loadgen: connection %d after %d echoes: %w", id, t.verified, err))
}
