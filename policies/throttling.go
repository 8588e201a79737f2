package policies

import (
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// ThrottlingOptions configure [ThrottlingFactory]. The zero value of each
// field means no limit.
type ThrottlingOptions struct {
	// MaxConnections caps the connections open at once; connections past it
	// are refused (BuildProtocol returns nil).
	MaxConnections int
	// ReadLimit is the bytes per second that all the factory's connections
	// together may receive.
	ReadLimit int64
	// WriteLimit is the bytes per second that all the factory's connections
	// together may write.
	WriteLimit int64
}

// ThrottlingFactory wraps f so that its connections together stay within
// opts: Twisted's ThrottlingFactory.
//
// Bytes are counted in one-second windows of the connections' loop clock,
// shared by all connections of the factory (the counters are safe across
// loops; connections on different loops must have clocks that agree, as the
// reactor's do). Bytes over a window's limit are carried into the next
// windows, so the long-run rate is the limit.
//
// Reads: a connection that receives data while the read budget is spent gets
// that data, then its reading is paused (ThrottleReads, which pauses the real
// transport's reading and thus pushes back on the peer through TCP) until
// the window in which the excess is paid off; it is then resumed unless the
// budget is spent again. A connection is paused when it next reads, not at
// once: each connection lets at most one read through per spent window.
// Every transport.Transport can pause its reading (the reactor's stops
// reading the socket and bounds what slips in), so no fallback is needed.
//
// Writes are never delayed or refused: Write keeps its contract and the
// bytes' order. As in Twisted, writes are throttled through the connection's
// registered producer (RegisterProducer on the wrapper): when the write budget
// is spent, a streaming producer is paused, and a pull producer is not asked
// for more, until the excess is paid off. A protocol that writes without a
// producer is not slowed; the idiom of registering the transport as its own
// streaming producer makes an echo-like protocol stop reading while its
// writes are throttled.
//
// Any goroutine may call ThrottlingFactory.
func ThrottlingFactory(f factory.Factory, opts ThrottlingOptions) *WrappingFactory {
	t := &throttle{conns: connCounter{limit: int64(opts.MaxConnections)}}
	if opts.ReadLimit > 0 {
		t.reads = &budget{limit: opts.ReadLimit}
	}
	if opts.WriteLimit > 0 {
		t.writes = &budget{limit: opts.WriteLimit}
	}
	return NewWrappingFactory(f, t)
}

type throttle struct {
	NopHooks
	conns         connCounter
	reads, writes *budget // nil: no limit
}

// Build admits a connection within MaxConnections. Loop goroutine.
func (t *throttle) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, Hooks) {
	if !t.conns.acquire() {
		return nil, nil
	}
	p := buildCounted(next, t.conns.release)
	if p == nil {
		return nil, nil
	}
	if t.reads == nil && t.writes == nil {
		return p, t
	}
	return p, &throttleConn{t: t}
}

// ConnectionLost gives back the connection's place. Loop goroutine.
func (t *throttle) ConnectionLost(*ProtocolWrapper, error) { t.conns.release() }

// throttleConn is one connection of a throttle with byte limits.
type throttleConn struct {
	NopHooks
	t *throttle

	readTimer transport.DelayedCall // loop goroutine only

	mu         sync.Mutex // guards the fields below: Wrote runs on any goroutine
	writeTimer transport.DelayedCall
	lost       bool
}

// DataReceived counts data and throttles reads when the budget is spent.
// Loop goroutine.
func (c *throttleConn) DataReceived(w *ProtocolWrapper, data []byte) {
	if c.t.reads == nil {
		return
	}
	now := w.Loop().Now()
	over, until := c.t.reads.spend(now, int64(len(data)))
	if !over || c.readTimer != nil {
		return
	}
	w.ThrottleReads()
	c.readTimer = w.Loop().CallLater(until.Sub(now), func() { c.readsDue(w) })
}

// readsDue resumes reading once the read budget allows. Loop goroutine.
func (c *throttleConn) readsDue(w *ProtocolWrapper) {
	now := w.Loop().Now()
	if over, until := c.t.reads.spend(now, 0); over {
		c.readTimer = w.Loop().CallLater(until.Sub(now), func() { c.readsDue(w) })
		return
	}
	c.readTimer = nil
	w.UnthrottleReads()
}

// Wrote counts data and throttles writes when the budget is spent.
// Any goroutine.
func (c *throttleConn) Wrote(w *ProtocolWrapper, data []byte) {
	if c.t.writes == nil {
		return
	}
	now := w.Loop().Now()
	over, until := c.t.writes.spend(now, int64(len(data)))
	if !over {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writeTimer != nil || c.lost {
		return
	}
	w.ThrottleWrites()
	c.writeTimer = w.Loop().CallLater(until.Sub(now), func() { c.writesDue(w) })
}

// writesDue lifts the write throttle once the write budget allows.
// Loop goroutine.
func (c *throttleConn) writesDue(w *ProtocolWrapper) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lost {
		return
	}
	now := w.Loop().Now()
	if over, until := c.t.writes.spend(now, 0); over {
		c.writeTimer = w.Loop().CallLater(until.Sub(now), func() { c.writesDue(w) })
		return
	}
	c.writeTimer = nil
	w.UnthrottleWrites()
}

// ConnectionLost gives back the connection's place and stops its timers.
// Loop goroutine.
func (c *throttleConn) ConnectionLost(*ProtocolWrapper, error) {
	c.t.conns.release()
	if c.readTimer != nil {
		_ = c.readTimer.Cancel()
		c.readTimer = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost = true
	if c.writeTimer != nil {
		_ = c.writeTimer.Cancel()
		c.writeTimer = nil
	}
}

// maxWindows keeps a window count within what a time.Duration can hold.
const maxWindows = math.MaxInt64 / int64(time.Second)

// budget counts bytes in one-second windows against a limit. Safe from any
// goroutine.
type budget struct {
	limit int64

	mu      sync.Mutex
	started bool
	start   time.Time // start of the current window
	used    int64     // bytes counted in it, with the excess carried from earlier ones
}

// spend counts n bytes at now. It reports whether the budget is exceeded and,
// if so, the start of the first window in which the excess fits.
func (b *budget) spend(now time.Time, n int64) (over bool, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.started, b.start = true, now
	} else if elapsed := now.Sub(b.start); elapsed >= time.Second {
		k := int64(elapsed / time.Second)
		if k > b.used/b.limit {
			b.used = 0
		} else {
			b.used -= k * b.limit
		}
		b.start = b.start.Add(time.Duration(k) * time.Second)
	}
	b.used += n
	if b.used <= b.limit {
		return false, time.Time{}
	}
	windows := min((b.used-b.limit+b.limit-1)/b.limit, maxWindows)
	return true, b.start.Add(time.Duration(windows) * time.Second)
}

// RegisterProducer registers p with the real transport, through a proxy
// that also holds p back while the policy throttles writes (ThrottleWrites):
// a streaming producer is paused while either the transport or the throttle
// wants it paused; a pull producer's ResumeProducing is delayed until the
// throttle is lifted. The proxy calls p on the connection's loop. The proxy
// is a transport.ProducerWrapper of p, so that the real transport decides
// by p whether a LoseConnection waits for it (transport.HoldsClose): the
// wrapper registered as its own producer does not hold the close up. It
// returns the real transport's error. Any goroutine.
func (w *ProtocolWrapper) RegisterProducer(p transport.Producer, streaming bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	px := &producerProxy{w: w, p: p, streaming: streaming}
	if err := w.Transport().RegisterProducer(px, streaming); err != nil {
		return err
	}
	w.prod = px
	if w.writeThrottled && streaming {
		_ = w.Loop().CallSoon(w.syncWrites)
	}
	return nil
}

// UnregisterProducer unregisters the producer from the real transport.
// Any goroutine.
func (w *ProtocolWrapper) UnregisterProducer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prod = nil
	w.Transport().UnregisterProducer()
}

// ThrottleWrites holds back the registered producer for the policy:
// Twisted's throttleWrites. Writes themselves go on. The producer is told on
// the connection's loop. Any goroutine.
func (w *ProtocolWrapper) ThrottleWrites() { w.setWriteThrottle(true) }

// UnthrottleWrites withdraws ThrottleWrites: a streaming producer is resumed
// unless the transport still wants it paused; a pull producer gets the
// ResumeProducing it was owed. The producer is told on the connection's loop.
// Any goroutine.
func (w *ProtocolWrapper) UnthrottleWrites() { w.setWriteThrottle(false) }

func (w *ProtocolWrapper) setWriteThrottle(on bool) {
	w.mu.Lock()
	if w.writeThrottled == on {
		w.mu.Unlock()
		return
	}
	w.writeThrottled = on
	hasProducer := w.prod != nil
	w.mu.Unlock()
	if hasProducer {
		_ = w.Loop().CallSoon(w.syncWrites)
	}
}

// syncWrites brings the registered producer in line with the throttle.
// Loop goroutine.
func (w *ProtocolWrapper) syncWrites() {
	w.mu.Lock()
	var call func()
	if w.prod != nil {
		call = w.prod.syncLocked()
	}
	w.mu.Unlock()
	if call != nil {
		call()
	}
}

// producerProxy is what the real transport sees as the producer. The real
// transport calls it on the loop, and syncWrites runs on the loop, so the
// producer's methods are called on the loop, one at a time; they are called
// without w.mu held, so that the producer may write. It is a
// transport.ProducerWrapper, so transport.HoldsClose judges p, not the
// proxy.
type producerProxy struct {
	w         *ProtocolWrapper
	p         transport.Producer
	streaming bool
	eofClose  atomic.Bool // the peer's FIN ends the connection: p does not hold the close up

	// Guarded by w.mu.
	held   bool // streaming: the transport asked for a pause
	paused bool // streaming: p was last told to pause
	owed   bool // pull: a ResumeProducing held back by the throttle
}

// syncLocked returns the call that brings p to the state the transport and
// the throttle want, or nil. w.mu must be held.
func (px *producerProxy) syncLocked() func() {
	if px.streaming {
		want := px.held || px.w.writeThrottled
		if want == px.paused {
			return nil
		}
		px.paused = want
		if want {
			return px.p.PauseProducing
		}
		return px.p.ResumeProducing
	}
	if px.owed && !px.w.writeThrottled {
		px.owed = false
		return px.p.ResumeProducing
	}
	return nil
}

func (px *producerProxy) update(fn func()) {
	px.w.mu.Lock()
	fn()
	call := px.syncLocked()
	px.w.mu.Unlock()
	if call != nil {
		call()
	}
}

// PauseProducing records the transport's pause. Loop goroutine.
func (px *producerProxy) PauseProducing() { px.update(func() { px.held = true }) }

// ResumeProducing records the transport's resume (streaming) or its request
// for more (pull). Loop goroutine.
func (px *producerProxy) ResumeProducing() {
	px.update(func() {
		if px.streaming {
			px.held = false
		} else {
			px.owed = true
		}
	})
}

// StopProducing passes the transport's stop on. Loop goroutine.
func (px *producerProxy) StopProducing() { px.p.StopProducing() }

// WrappedProducer returns the producer the proxy stands for, for
// transport.HoldsClose; nil once the peer's FIN ends the connection of a
// protocol that is not half-closeable (the reactor's own close on FIN is
// not held up by producers either). Any goroutine.
func (px *producerProxy) WrappedProducer() transport.Producer {
	if px.eofClose.Load() {
		return nil
	}
	return px.p
}

var _ transport.ProducerWrapper = (*producerProxy)(nil)
