package push

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// DefaultInterval is the ticker's period when Factory.Interval is 0.
const DefaultInterval = time.Second

// ErrInterval means a Factory's Interval is negative.
var ErrInterval = errors.New("push: negative interval")

// Factory makes a [Pusher] per connection and runs the tickers: one per
// event loop that has connections (transport.LoopOf), each writing to the
// connections of its own loop, so every write takes the loop's fast path.
// Set Interval before it is listened on.
type Factory struct {
	factory.Base

	// Interval is the time between two pushes; 0 means DefaultInterval.
	Interval time.Duration

	mu      sync.Mutex
	tickers map[transport.Loop]*ticker // the loops' tickers, under mu
	pushed  atomic.Int64
	skipped atomic.Int64
}

// ticker is one loop's: its connections, and its next tick. Its fields are
// its loop's (every Pusher on it joins and leaves from that loop), except
// that Factory.mu guards its place in the map.
type ticker struct {
	loop    transport.Loop
	conns   []*Pusher
	running bool      // a tick is scheduled
	due     time.Time // when the next tick is due
	line    []byte
	tick    func() // f.tick(this ticker), made once
}

func (f *Factory) interval() time.Duration {
	if f.Interval > 0 {
		return f.Interval
	}
	return DefaultInterval
}

// BuildProtocol returns a new Pusher. Any goroutine (the reactor calls it on
// the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol { return &Pusher{f: f} }

// RegisterFlags defines --interval on fs. Any goroutine, before the flags
// are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&f.Interval, "interval", DefaultInterval, "time between two pushes")
}

// Check reports a negative Interval ([ErrInterval]). Any goroutine.
func (f *Factory) Check() error {
	if f.Interval < 0 {
		return fmt.Errorf("%w: %v", ErrInterval, f.Interval)
	}
	return nil
}

// Pushed returns the number of lines written so far, over every connection.
// Any goroutine.
func (f *Factory) Pushed() int64 { return f.pushed.Load() }

// Skipped returns the number of pushes skipped because a connection's
// output was over its high watermark. Any goroutine.
func (f *Factory) Skipped() int64 { return f.skipped.Load() }

// add puts p on its loop's ticker and, if that ticker is idle, starts it.
// p's loop goroutine.
func (f *Factory) add(p *Pusher) {
	loop := transport.LoopOf(p.Transport())
	f.mu.Lock()
	t := f.tickers[loop]
	if t == nil {
		if f.tickers == nil {
			f.tickers = make(map[transport.Loop]*ticker)
		}
		t = &ticker{loop: loop}
		t.tick = func() { f.tick(t) }
		f.tickers[loop] = t
	}
	f.mu.Unlock()
	p.t = t
	p.idx = len(t.conns)
	t.conns = append(t.conns, p)
	if !t.running {
		t.running = true
		t.due = loop.Now().Add(f.interval())
		loop.CallLater(f.interval(), t.tick)
	}
}

// remove takes p off its ticker. p's loop goroutine.
func (f *Factory) remove(p *Pusher) {
	t := p.t
	if t == nil {
		return
	}
	last := len(t.conns) - 1
	if p.idx < 0 || p.idx > last || t.conns[p.idx] != p {
		return
	}
	t.conns[p.idx] = t.conns[last]
	t.conns[p.idx].idx = p.idx
	t.conns[last] = nil
	t.conns = t.conns[:last]
	p.idx = -1
}

// tick writes the current time to every connection of t's loop whose
// output is not over its high watermark, then schedules the next tick one
// interval after this one was due (so the period does not drift by the
// time a tick takes; a tick missed altogether is skipped), or stops when
// the loop has no connection left. t's loop goroutine.
func (f *Factory) tick(t *ticker) {
	if len(t.conns) == 0 {
		t.running = false
		return
	}
	now := t.loop.Now()
	t.line = strconv.AppendInt(t.line[:0], now.UnixNano(), 10)
	t.line = append(t.line, '\n')
	var pushed, skipped int64
	for _, p := range t.conns {
		if p.full.Load() {
			skipped++
			continue
		}
		if _, err := p.Transport().Write(t.line); err == nil {
			pushed++
		}
	}
	f.pushed.Add(pushed)
	if skipped > 0 {
		f.skipped.Add(skipped)
	}
	if t.due = t.due.Add(f.interval()); t.due.Before(now) {
		t.due = now.Add(f.interval())
	}
	t.loop.CallLater(t.due.Sub(now), t.tick)
}

// Pusher is one connection: it receives the ticks and echoes what it
// reads. Its methods run on the connection's loop.
type Pusher struct {
	protocol.Base
	f    *Factory
	t    *ticker     // its loop's ticker, from ConnectionMade
	idx  int         // in t.conns
	full atomic.Bool // output over the high watermark: pushes skipped
}

// ConnectionMade registers the transport as the producer of its own output
// (for the echo) and joins the ticker. Loop goroutine.
func (p *Pusher) ConnectionMade() {
	_ = p.Transport().RegisterProducer(p.Transport(), true)
	p.f.add(p)
}

// DataReceived echoes data. Loop goroutine.
func (p *Pusher) DataReceived(data []byte) { _, _ = p.Transport().Write(data) }

// WriteBufferFull stops the pushes to this connection until its output
// drains. Loop goroutine.
func (p *Pusher) WriteBufferFull() { p.full.Store(true) }

// WriteBufferDrained lets the pushes go on. Loop goroutine.
func (p *Pusher) WriteBufferDrained() { p.full.Store(false) }

// ConnectionLost leaves the ticker. Loop goroutine.
func (p *Pusher) ConnectionLost(error) { p.f.remove(p) }
