package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// udpLossTimeout is how long a UDP worker waits for an echo before it
// counts the datagrams in flight as lost and sends new ones.
const udpLossTimeout = time.Second

// RunUDP is Run for a UDP echo server: cfg.Conns connected UDP sockets, each
// on its own goroutine keeping cfg.Depth datagrams of cfg.Size bytes in
// flight, every echo verified byte for byte. UDP may drop datagrams (a
// server's socket buffer overflows): a gap in the echoed sequence, or no
// echo for a second, counts the missing ones in Result.Lost and the socket
// goes on with new datagrams (one that comes back later is taken off
// Lost); a wrong or repeated datagram is a mismatch.
// Messages and the latencies count only the echoes of the window. Any
// goroutine.
func RunUDP(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(true); err != nil {
		return Result{}, err
	}
	raddr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return Result{}, err
	}
	conns := make([]*net.UDPConn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		if conns[i], err = net.DialUDP("udp", nil, raddr); err != nil {
			return Result{}, fmt.Errorf("loadgen: UDP socket %d of %d: %w", i+1, cfg.Conns, err)
		}
	}
	g := &run{cfg: cfg, epoch: time.Now()}
	workers := make([]*udpWorker, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		w := &udpWorker{id: i, c: c, size: cfg.Size, depth: cfg.depth(), pat: pattern(i, cfg.Size),
			out: make([]byte, cfg.Size), in: make([]byte, cfg.Size+1), sent: make([]time.Duration, cfg.depth())}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(g) }()
	}
	elapsed, werr := g.window(ctx)
	// The workers stop sending and wait for what is in flight (up to the
	// loss timeout each).
	wg.Wait()
	res := Result{Mode: "udp", Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.depth(), Elapsed: elapsed}
	tallies := make([]*tally, len(workers))
	for i, w := range workers {
		tallies[i] = &w.tally
		res.Lost += w.lost
	}
	res.collect(tallies, g)
	return res, werr
}

// udpWorker is one socket of RunUDP, owned by its goroutine.
type udpWorker struct {
	id          int
	c           *net.UDPConn
	size, depth int
	pat, out    []byte
	in          []byte
	sent        []time.Duration // send time of datagram seq, at seq % depth
	next        uint64          // next datagram to send
	recv        uint64          // next datagram expected back
	lost        int64
	tally
}

func (w *udpWorker) send(g *run) error {
	fill(w.out, w.pat, w.next)
	w.sent[w.next%uint64(w.depth)] = g.since()
	w.next++
	_, err := w.c.Write(w.out)
	return err
}

func (w *udpWorker) run(g *run) {
	for range w.depth {
		if err := w.send(g); err != nil {
			g.failed(fmt.Errorf("loadgen: UDP socket %d: %w", w.id, err))
			return
		}
	}
	for {
		if g.phase.Load() == phaseStop && w.recv == w.next {
			return
		}
		w.c.SetReadDeadline(time.Now().Add(udpLossTimeout))
		n, err := w.c.Read(w.in)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Everything in flight is lost: start a new window.
				w.lost += int64(w.next - w.recv)
				w.recv = w.next
				if g.phase.Load() == phaseStop {
					return
				}
				for range w.depth {
					if err := w.send(g); err != nil {
						g.failed(fmt.Errorf("loadgen: UDP socket %d: %w", w.id, err))
						return
					}
				}
				continue
			}
			g.failed(fmt.Errorf("loadgen: UDP socket %d after %d echoes: %w", w.id, w.verified, err))
			return
		}
		now := g.since()
		seq, ok := parseStamp(w.in[:min(n, StampLen)])
		if ok && n == w.size && seq < w.recv && w.lost > 0 && verify(w.in[:n], w.pat, w.id, seq) == nil {
			w.lost-- // late, not lost: it was written off at a timeout
			continue
		}
		if n != w.size || !ok || seq < w.recv || seq >= w.next {
			g.failed(fmt.Errorf("loadgen: UDP socket %d: unexpected echo of %d bytes (stamp %q), expecting datagram %d..%d",
				w.id, n, w.in[:min(n, StampLen)], w.recv, w.next-1))
			return
		}
		if mm := verify(w.in[:n], w.pat, w.id, seq); mm != nil {
			g.failed(mm)
			return
		}
		w.lost += int64(seq - w.recv)
		if g.phase.Load() == phaseMeasure {
			w.hist.Record(now - w.sent[seq%uint64(w.depth)])
			w.msgs++
		}
		w.verified++
		w.recv = seq + 1
		if g.phase.Load() != phaseStop {
			// Keep the window full: one for the echo, one for each lost.
			for w.next-w.recv < uint64(w.depth) {
				if err := w.send(g); err != nil {
					g.failed(fmt.Errorf("loadgen: UDP socket %d: %w", w.id, err))
					return
				}
			}
		}
	}
}

// parseStamp reads the sequence number at the start of a message.
func parseStamp(b []byte) (uint64, bool) {
	if len(b) != StampLen {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
