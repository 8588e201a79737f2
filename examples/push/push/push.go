// Package push is gnet's push example ported to whirl: a server that sends
// a timestamp line to every connection on a ticker, and echoes what
// clients send.
//
// Each line is the time of the tick in nanoseconds since the Unix epoch, in
// decimal, and "\n". All connections get the same line at each tick.
//
// # One ticker per loop
//
// gnet's example runs one ticker (the engine's OnTick, on a goroutine of its
// own) that walks a sync.Map of every connection and queues an AsyncWrite
// to each. The port keeps a ticker per event loop instead, made with the
// loop's CallLater: each loop's ticker writes to the connections of that loop
// only, on the loop, so a push is a plain Write (no lock contention, no task
// per connection, no allocation) and a loop's connections never wait for
// another's. A loop's ticker stops when its last connection goes and starts
// again with the next.
//
// # Flow control
//
// A client that does not read must not make the server buffer without
// bound. Each connection implements protocol.WriteBufferNotifier: when its
// unsent output passes the high watermark (WriteBufferFull), its pushes are
// skipped (counted: [Factory.Skipped]) until it drains below the low one
// (WriteBufferDrained); a timestamp that could not be sent is stale anyway,
// and the next tick sends a fresh one. The echo registers the transport as
// its own producer, so a client that sends without reading is pushed back by
// TCP, as in examples/echo.
//
// # Goroutines
//
// The protocol's callbacks and the tickers run on the connections' loops.
// [Factory]'s methods may be called from any goroutine.
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

// Factory makes a [Pusher] per connection and runs the tickers. Set
// Interval before it is listened on.
type Factory struct {
	factory.Base

	// Interval is the time between two pushes; 0 means DefaultInterval.
	Interval time.Duration

	mu      sync.Mutex
	loops   map[transport.Loop]*loopTicker
	pushed  atomic.Int64
	skipped atomic.Int64
}

// loopTicker is the ticker of one loop and the connections it pushes to.
// Its fields are touched only on its loop.
type loopTicker struct {
	f       *Factory
	loop    transport.Loop
	conns   []*Pusher
	running bool
	due     time.Time // when the next tick is due
	line    []byte
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

// tickerOf returns the ticker of loop l, made on first use. Any goroutine.
func (f *Factory) tickerOf(l transport.Loop) *loopTicker {
	f.mu.Lock()
	defer f.mu.Unlock()
	lt := f.loops[l]
	if lt == nil {
		if f.loops == nil {
			f.loops = make(map[transport.Loop]*loopTicker)
		}
		lt = &loopTicker{f: f, loop: l}
		f.loops[l] = lt
	}
	return lt
}

// add puts p on the ticker and starts it if it was idle. Loop goroutine.
func (lt *loopTicker) add(p *Pusher) {
	p.idx = len(lt.conns)
	lt.conns = append(lt.conns, p)
	if !lt.running {
		lt.running = true
		lt.due = lt.loop.Now().Add(lt.f.interval())
		lt.loop.CallLater(lt.f.interval(), lt.tick)
	}
}

// remove takes p off the ticker. Loop goroutine.
func (lt *loopTicker) remove(p *Pusher) {
	last := len(lt.conns) - 1
	if p.idx < 0 || p.idx > last || lt.conns[p.idx] != p {
		return
	}
	lt.conns[p.idx] = lt.conns[last]
	lt.conns[p.idx].idx = p.idx
	lt.conns[last] = nil
	lt.conns = lt.conns[:last]
	p.idx = -1
}

// tick writes the current time to every connection of the loop whose output
// is not over its high watermark, then schedules the next tick one interval
// after this one was due (so the period does not drift by the time a tick
// takes; a tick missed altogether is skipped), or stops when the loop has no
// connection left. Loop goroutine.
func (lt *loopTicker) tick() {
	if len(lt.conns) == 0 {
		lt.running = false
		return
	}
	now := lt.loop.Now()
	lt.line = strconv.AppendInt(lt.line[:0], now.UnixNano(), 10)
	lt.line = append(lt.line, '\n')
	var pushed, skipped int64
	for _, p := range lt.conns {
		if p.full {
			skipped++
			continue
		}
		if _, err := p.Transport().Write(lt.line); err == nil {
			pushed++
		}
	}
	lt.f.pushed.Add(pushed)
	if skipped > 0 {
		lt.f.skipped.Add(skipped)
	}
	if lt.due = lt.due.Add(lt.f.interval()); lt.due.Before(now) {
		lt.due = now.Add(lt.f.interval())
	}
	lt.loop.CallLater(lt.due.Sub(now), lt.tick)
}

// Pusher is one connection: it receives the ticks of its loop and echoes
// what it reads. Its methods run on the connection's loop.
type Pusher struct {
	protocol.Base
	f    *Factory
	lt   *loopTicker
	idx  int
	full bool
}

// ConnectionMade registers the transport as the producer of its own output
// (for the echo) and joins its loop's ticker. Loop goroutine.
func (p *Pusher) ConnectionMade() {
	_ = p.Transport().RegisterProducer(p.Transport(), true)
	p.lt = p.f.tickerOf(p.Transport().Loop())
	p.lt.add(p)
}

// DataReceived echoes data. Loop goroutine.
func (p *Pusher) DataReceived(data []byte) { _, _ = p.Transport().Write(data) }

// WriteBufferFull stops the pushes to this connection until its output
// drains. Loop goroutine.
func (p *Pusher) WriteBufferFull() { p.full = true }

// WriteBufferDrained lets the pushes go on. Loop goroutine.
func (p *Pusher) WriteBufferDrained() { p.full = false }

// ConnectionLost leaves the ticker. Loop goroutine.
func (p *Pusher) ConnectionLost(error) {
	if p.lt != nil {
		p.lt.remove(p)
	}
}
