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

// Factory makes a [Pusher] per connection and runs the ticker. Set
// Interval before it is listened on.
type Factory struct {
	factory.Base

	// Interval is the time between two pushes; 0 means DefaultInterval.
	Interval time.Duration

	mu      sync.Mutex
	conns   []*Pusher // every connection; the ticker walks it under mu
	running bool      // a tick is scheduled
	loop    transport.Loop
	due     time.Time // when the next tick is due
	line    []byte
	pushed  atomic.Int64
	skipped atomic.Int64
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

// add puts p on the ticker's list and, if the ticker is idle, starts it
// on p's loop. p's loop goroutine.
func (f *Factory) add(p *Pusher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p.idx = len(f.conns)
	f.conns = append(f.conns, p)
	if !f.running {
		f.running = true
		f.loop = p.Transport().Loop()
		f.due = f.loop.Now().Add(f.interval())
		f.loop.CallLater(f.interval(), f.tick)
	}
}

// remove takes p off the list. p's loop goroutine.
func (f *Factory) remove(p *Pusher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := len(f.conns) - 1
	if p.idx < 0 || p.idx > last || f.conns[p.idx] != p {
		return
	}
	f.conns[p.idx] = f.conns[last]
	f.conns[p.idx].idx = p.idx
	f.conns[last] = nil
	f.conns = f.conns[:last]
	p.idx = -1
}

// tick writes the current time to every connection whose output is not
// over its high watermark, then schedules the next tick one interval after
// this one was due (so the period does not drift by the time a tick takes;
// a tick missed altogether is skipped), or stops when no connection is
// left. It runs on the loop of the connection that started the ticker (it
// goes on after that connection closed); a connection on that loop is
// written to directly, one on another loop through its transport's queue.
// The ticker's loop goroutine.
func (f *Factory) tick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.conns) == 0 {
		f.running = false
		return
	}
	now := f.loop.Now()
	f.line = strconv.AppendInt(f.line[:0], now.UnixNano(), 10)
	f.line = append(f.line, '\n')
	var pushed, skipped int64
	for _, p := range f.conns {
		if p.full.Load() {
			skipped++
			continue
		}
		if _, err := p.Transport().Write(f.line); err == nil {
			pushed++
		}
	}
	f.pushed.Add(pushed)
	if skipped > 0 {
		f.skipped.Add(skipped)
	}
	if f.due = f.due.Add(f.interval()); f.due.Before(now) {
		f.due = now.Add(f.interval())
	}
	f.loop.CallLater(f.due.Sub(now), f.tick)
}

// Pusher is one connection: it receives the ticks and echoes what it
// reads. Its methods run on the connection's loop.
type Pusher struct {
	protocol.Base
	f    *Factory
	idx  int         // in f.conns, under f.mu
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
