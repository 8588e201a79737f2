//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errNoFiles means the descriptor limit is too low for the connections asked for.
var errNoFiles = errors.New("soak: descriptor limit too low")

// stuckConfig is the stuck subcommand's settings.
type stuckConfig struct {
	conns    int           // connections that send and never read
	request  int64         // bytes each of them sends
	good     int           // connections that ping-pong
	msg      int           // bytes per ping
	interval time.Duration // between pings on one good connection
	baseline time.Duration // pings measured before the stuck connections come
	hold     time.Duration // time the stuck connections are held once stalled
	stall    time.Duration // a write making no progress for this long: pushed back
	common
}

// Phases of a stuck run, in order; latencies are kept per phase.
const (
	phaseBefore = iota // only the good connections
	phaseLoad          // stuck connections connect and send
	phaseHeld          // stuck connections sent all they could and sit there
	phaseDone
	numPhases = phaseDone
)

var phaseNames = [numPhases]string{"before", "load", "held"}

// latency summarizes the ping round trips of one phase.
type latency struct {
	Phase string `json:"phase"`
	// Pings is the number of round trips measured, Errors the good
	// connections that failed in the phase.
	Pings  int `json:"pings"`
	Errors int `json:"errors"`
	// P50, P99 and Max are round-trip times in microseconds.
	P50 float64 `json:"p50_us"`
	P99 float64 `json:"p99_us"`
	Max float64 `json:"max_us"`
	// Duration is how long the phase lasted.
	Duration string `json:"duration"`
}

// stuckResult is what a stuck run measured. Sizes are in bytes.
type stuckResult struct {
	Mode string `json:"mode"`
	// Conns is the number of stuck connections, Request the bytes each sends.
	Conns   int   `json:"conns"`
	Request int64 `json:"request"`
	// Connected counts the stuck connections established; Complete those
	// that wrote all of Request, PushedBack those whose writes made no
	// progress for Stall, Failed those whose writes failed otherwise.
	Connected  int    `json:"connected"`
	Complete   int    `json:"complete"`
	PushedBack int    `json:"pushed_back_conns"`
	Failed     int    `json:"failed"`
	Written    int64  `json:"written"`
	Stall      string `json:"stall"`
	// Good is the number of ping-pong connections, Msg their message size
	// and Interval the time between two pings on one of them.
	Good     int    `json:"good"`
	Msg      int    `json:"msg"`
	Interval string `json:"interval"`
	// Latency has one entry per phase: before, load, held.
	Latency []latency `json:"latency"`
	serverMemory
}

// runStuck opens cfg.conns connections that each send cfg.request bytes and
// never read, while cfg.good connections measure ping-pong latency.
func runStuck(ctx context.Context, cfg stuckConfig) (*stuckResult, error) {
	if cfg.conns < 0 || cfg.good <= 0 || cfg.msg <= 0 || cfg.request < 0 {
		return nil, fmt.Errorf("%w: -conns, -request must not be negative; -good, -msg must be positive", errUsage)
	}
	if err := raiseFileLimit(uint64(cfg.conns + cfg.good + 64)); err != nil {
		return nil, err
	}
	srv, err := cfg.start(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &stuckResult{
		Mode: "stuck", Conns: cfg.conns, Request: cfg.request, Stall: cfg.stall.String(),
		Good: cfg.good, Msg: cfg.msg, Interval: cfg.interval.String(),
	}
	res.IdleRSS, err = idleRSS(srv.pid, cfg.idle)
	if err != nil {
		return nil, err
	}
	smp := startSampler(srv.pid, cfg.every)

	var phase atomic.Int32
	pingers := make([]*pinger, cfg.good)
	for i := range pingers {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			smp.finish()
			return nil, err
		}
		defer c.Close()
		pingers[i] = &pinger{c: c, msg: cfg.msg, every: cfg.interval, phase: &phase}
	}
	var wg sync.WaitGroup
	for _, p := range pingers {
		wg.Add(1)
		go func() { defer wg.Done(); p.run() }()
	}
	var bounds [numPhases + 1]time.Time
	bounds[phaseBefore] = time.Now()
	time.Sleep(cfg.baseline)

	phase.Store(phaseLoad)
	bounds[phaseLoad] = time.Now()
	stuck := openStuck(srv.addr, cfg)
	for _, s := range stuck {
		if s.c != nil {
			defer s.c.Close()
		}
	}
	phase.Store(phaseHeld)
	bounds[phaseHeld] = time.Now()
	time.Sleep(cfg.hold)
	res.LoadRSS = smp.mark()
	profile := cfg.saveProfile(srv, "stuck")
	phase.Store(phaseDone)
	bounds[phaseDone] = time.Now()
	wg.Wait()

	for _, s := range stuck {
		if s.c == nil {
			continue
		}
		res.Connected++
		res.Written += s.written
		switch {
		case s.err == nil:
			res.Complete++
		case errors.Is(s.err, errPushedBack):
			res.PushedBack++
		default:
			res.Failed++
		}
	}
	for ph := range numPhases {
		l := latency{Phase: phaseNames[ph], Duration: bounds[ph+1].Sub(bounds[ph]).Round(time.Millisecond).String()}
		var all []time.Duration
		for _, p := range pingers {
			all = append(all, p.rtts[ph]...)
			if p.failedIn == ph {
				l.Errors++
			}
		}
		l.Pings = len(all)
		if len(all) > 0 {
			slices.Sort(all)
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
			l.P50, l.P99, l.Max = us(percentile(all, 50)), us(percentile(all, 99)), us(all[len(all)-1])
		}
		res.Latency = append(res.Latency, l)
	}
	for _, s := range stuck {
		if s.c != nil {
			s.c.Close()
		}
	}
	for _, p := range pingers {
		p.c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	res.serverMemory = finishMemory(srv, smp, res.IdleRSS, res.LoadRSS, cfg.every)
	res.Profile = profile
	return res, nil
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// pinger is a good connection: it sends msg bytes every interval, waits for
// the echo and records the round trip under the current phase.
type pinger struct {
	c     net.Conn
	msg   int
	every time.Duration
	phase *atomic.Int32

	rtts     [numPhases][]time.Duration
	failedIn int // the phase of the first error, or -1
	err      error
}

func (p *pinger) run() {
	p.failedIn = -1
	out := bytes.Repeat([]byte{'p'}, p.msg)
	in := make([]byte, p.msg)
	next := time.Now()
	for seq := 0; ; seq++ {
		ph := int(p.phase.Load())
		if ph >= phaseDone {
			return
		}
		out[0] = byte(seq)
		start := time.Now()
		_ = p.c.SetDeadline(start.Add(10 * time.Second))
		_, err := p.c.Write(out)
		if err == nil {
			_, err = io.ReadFull(p.c, in)
		}
		if err == nil && !bytes.Equal(in, out) {
			err = errEchoCorrupt
		}
		if err != nil {
			p.failedIn, p.err = ph, err
			return
		}
		p.rtts[ph] = append(p.rtts[ph], time.Since(start))
		next = next.Add(p.every)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else {
			next = time.Now()
		}
	}
}

// stuckConn is one connection that sends and never reads.
type stuckConn struct {
	c       net.Conn
	written int64
	err     error
}

// openStuck dials cfg.conns connections (64 at a time) and has each send
// cfg.request bytes without reading. It returns once every one of them sent
// everything, failed, or made no progress for cfg.stall.
func openStuck(addr string, cfg stuckConfig) []*stuckConn {
	conns := make([]*stuckConn, cfg.conns)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		s := &stuckConn{}
		conns[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			<-sem
			if err != nil {
				s.err = err
				return
			}
			s.c = c
			s.written, _, s.err = flood(c, 0, cfg.request, 64<<10, cfg.stall)
		}()
	}
	wg.Wait()
	return conns
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to at least need, up to the
// hard limit.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	if lim.Max < need {
		return fmt.Errorf("%w: need %d descriptors, the hard limit is %d (raise it with ulimit -Hn)", errNoFiles, need, lim.Max)
	}
	lim.Cur = need
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
