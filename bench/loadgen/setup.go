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

// Setup measures connection setup: cfg.Conns goroutines each, in a loop,
// dial the server, send one message of cfg.Size bytes, read and verify its
// echo, and close. Result.Messages counts the connections completed in the
// window, Result.PerSec the rate, the latencies cover dial to close. Failed
// attempts are counted in Result.Errors; a goroutine gives up after 100 in a
// row. Any goroutine.
func Setup(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(true); err != nil {
		return Result{}, err
	}
	g := &run{cfg: cfg, epoch: time.Now()}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := make([]*setupLoop, cfg.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &setupLoop{id: i, pat: pattern(i, cfg.Size), msg: make([]byte, cfg.Size), buf: make([]byte, cfg.Size)}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(dctx, g) }()
	}
	elapsed, werr := g.window(ctx)
	cancel()
	wg.Wait()

	res := Result{Mode: "setup", Client: ClientGoroutine, Conns: cfg.Conns, Size: cfg.Size, Elapsed: elapsed}
	tallies := make([]*tally, len(workers))
	for i, w := range workers {
		tallies[i] = &w.tally
	}
	res.collect(tallies, g)
	return res, werr
}

// setupLoop is one goroutine of Setup.
type setupLoop struct {
	id       int
	pat      []byte
	msg, buf []byte
	seq      uint64
	tally
}

func (w *setupLoop) run(ctx context.Context, g *run) {
	d := net.Dialer{Timeout: g.cfg.dialTimeout()}
	failures := 0
	for g.phase.Load() != phaseStop {
		t0 := g.since()
		err := w.once(ctx, &d, g)
		if g.phase.Load() == phaseStop {
			return
		}
		if err != nil {
			var mm *MismatchError
			g.failed(err)
			if errors.As(err, &mm) {
				return
			}
			if failures++; failures >= 100 {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		failures = 0
		w.verified++
		if g.phase.Load() == phaseMeasure {
			w.hist.Record(g.since() - t0)
			w.msgs++
		}
	}
}

// once opens a connection, makes one verified round trip, and closes it.
func (w *setupLoop) once(ctx context.Context, d *net.Dialer, g *run) error {
	network, address := splitAddr(g.cfg.Addr)
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return fmt.Errorf("loadgen: dial: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(g.cfg.dialTimeout()))
	fill(w.msg, w.pat, w.seq)
	if _, err := c.Write(w.msg); err != nil {
		return fmt.Errorf("loadgen: write: %w", err)
	}
	if _, err := io.ReadFull(c, w.buf); err != nil {
		return fmt.Errorf("loadgen: read echo: %w", err)
	}
	if mm := verify(w.buf, w.pat, w.id, w.seq); mm != nil {
		return mm
	}
	w.seq++
	return nil
}

// Held is a set of open, idle connections made by Hold.
type Held struct {
	conns []net.Conn
	// Result counts the connections opened, the round trips verified (one
	// per connection), and any mismatch or error.
	Result Result
}

// Hold opens cfg.Conns connections to an echo server, makes one verified
// round trip of cfg.Size bytes on each (so the server has seen traffic on
// all of them), and leaves them open and idle until Close. Warmup, Duration
// and Depth are not used. A dial failure is an error; a failed round trip is
// counted in the Result. Any goroutine.
func Hold(ctx context.Context, cfg Config) (*Held, error) {
	if err := cfg.check(false); err != nil {
		return nil, err
	}
	conns, err := dialAll(ctx, &cfg, cfg.Conns)
	if err != nil {
		return nil, err
	}
	g := &run{cfg: cfg, epoch: time.Now()}
	h := &Held{conns: conns, Result: Result{Mode: "idle", Client: ClientGoroutine, Conns: cfg.Conns, Size: cfg.Size}}
	sem := make(chan struct{}, cfg.dialConcurrency())
	var (
		wg       sync.WaitGroup
		verified atomic.Int64
	)
	for i, c := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			pat := pattern(i, cfg.Size)
			msg, buf := make([]byte, cfg.Size), make([]byte, cfg.Size)
			fill(msg, pat, 0)
			_ = c.SetDeadline(time.Now().Add(cfg.dialTimeout()))
			if _, err := c.Write(msg); err != nil {
				g.failed(fmt.Errorf("loadgen: connection %d: write: %w", i, err))
				return
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				g.failed(fmt.Errorf("loadgen: connection %d: read echo: %w", i, err))
				return
			}
			if mm := verify(buf, pat, i, 0); mm != nil {
				g.failed(mm)
				return
			}
			_ = c.SetDeadline(time.Time{})
			verified.Add(1)
		}()
	}
	wg.Wait()
	h.Result.Verified = verified.Load()
	h.Result.Messages = h.Result.Verified
	h.Result.Bytes = h.Result.Verified * int64(cfg.Size)
	h.Result.Silent = cfg.Conns - int(h.Result.Verified)
	h.Result.Errors, h.Result.Mismatches, h.Result.FirstError = g.errs, g.mismatch, g.first
	return h, nil
}

// Close closes every held connection. Any goroutine, once.
func (h *Held) Close() error {
	closeAll(h.conns)
	return nil
}
