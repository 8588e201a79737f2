package reactor

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

const (
	stateOpen int32 = iota
	stateDisconnecting
	stateClosed
)

// Actions requested from any goroutine, carried out by service on the loop.
const (
	actLose     uint8 = 1 << iota // LoseConnection
	actAbort                      // AbortConnection
	actOverflow                   // a write passed the hard cap
	actRead                       // PauseProducing/ResumeProducing: reconcile reading
)

// conn is one connection: whirl's Transport over a gnet.Conn.
type conn struct {
	r      *Reactor
	l      *loop
	f      factory.Factory
	local  net.Addr
	remote net.Addr

	state      atomic.Int32
	opened     atomic.Bool
	readPaused atomic.Bool  // what PauseProducing/ResumeProducing asked for
	high, low  atomic.Int64 // watermarks; 0 means the reactor's
	queued     atomic.Int64 // bytes in gnet's outbound buffer after the last flush
	loopView   connLoop

	mu           sync.Mutex // guards the fields below
	out          []byte     // written, not yet flushed; from outPool
	outp         *[]byte    // the pool entry out came from
	flushPending bool
	acts         uint8
	writeClosed  bool
	losing       bool
	gone         bool // closed: the descriptor may already belong to someone else
	producer     transport.Producer
	streaming    bool
	producerGen  uint64 // bumped by each Register/UnregisterProducer
	wPausing     bool   // a writer is pausing the producer (see finishWriteLocked)
	wPaused      bool   // a writer paused the producer; the loop takes it over

	// Loop goroutine only.
	gc            gnet.Conn
	fd            int
	proto         protocol.Protocol
	notifier      protocol.WriteBufferNotifier
	made          bool
	closeReason   error
	loseReason    error
	closeOnReturn bool
	draining      bool // LoseConnection: close once output is gone
	prod          transport.Producer
	prodStreaming bool
	prodPaused    bool   // we paused the streaming producer
	prodGen       uint64 // the producerGen that prod reflects
	full          bool   // output passed the high watermark and has not drained below the low one
	watch         watchState
	inbuf         []byte // received while paused
	epollPaused   bool   // reading is off in the loop's epoll set
	lastRead      time.Time
	idleTimer     *time.Timer
}

var _ transport.Transport = (*conn)(nil)

func newConn(r *Reactor, l *loop, f factory.Factory, local, remote net.Addr) *conn {
	c := &conn{r: r, l: l, f: f, local: local, remote: remote}
	c.loopView.c = c
	return c
}

// open builds the protocol and makes the connection. Loop goroutine.
func (c *conn) open() {
	var p protocol.Protocol
	if !c.guard("BuildProtocol", func() { p = c.f.BuildProtocol(c.remote) }) {
		return
	}
	if p == nil {
		c.r.log.Debug().Stringer("peer", c.remote).Msg("factory refused connection")
		c.closeReason = transport.Aborted(errRefused)
		c.l.closeConn(c)
		return
	}
	c.proto = p
	c.notifier, _ = p.(protocol.WriteBufferNotifier)
	c.made = true
	if d := c.r.cfg.idleTimeout; d > 0 {
		c.lastRead = time.Now()
		c.idleTimer = time.AfterFunc(d, func() { _ = c.l.submit(c.checkIdle) })
	}
	c.guard("ConnectionMade", func() { protocol.MakeConnection(p, c) })
}

// guard runs fn, turning a panic into an abort. It reports whether fn returned.
func (c *conn) guard(what string, fn func()) (ok bool) {
	defer c.recoverPanic(what)
	fn()
	return true
}

func (c *conn) recoverPanic(what string) {
	if v := recover(); v != nil {
		pe := newPanicError(v)
		c.r.logPanic(what, pe, c.remote)
		c.abortNow(transport.Aborted(pe))
	}
}

// closed runs when gnet closed the connection. Loop goroutine.
func (c *conn) closed(reason error) {
	c.mu.Lock()
	c.gone = true
	c.writeClosed = true
	c.out, c.outp = nil, nil
	c.producer = nil
	c.mu.Unlock()
	c.state.Store(stateClosed)
	c.stopWatching()
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	c.inbuf = nil
	delete(c.l.conns, c)
	c.l.nconns.Add(-1)
	if p := c.prod; p != nil {
		c.prod = nil
		c.r.safeCall("StopProducing", p.StopProducing)
	}
	if c.made {
		c.made = false
		p := c.proto
		c.r.safeCall("ConnectionLost", func() { p.ConnectionLost(reason) })
	}
	c.r.connDone()
	if c.r.log.Debug().Enabled() {
		c.r.log.Debug().Stringer("peer", c.remote).AnErr("reason", reason).Msg("connection closed")
	}
}

// request records actions (or just pending output) with c.mu held, unlocks,
// and makes sure the loop services c soon.
func (c *conn) requestLocked(acts uint8) {
	c.acts |= acts
	kick := !c.flushPending
	c.flushPending = true
	c.mu.Unlock()
	if kick {
		c.l.kick(c)
	}
}

// Write copies p into the output buffer. Any goroutine.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.writeClosed {
		c.mu.Unlock()
		return 0, transport.ErrClosed
	}
	if int64(len(c.out)+len(p))+c.queued.Load() > int64(c.r.cfg.maxWrite) {
		c.writeClosed = true
		c.requestLocked(actOverflow)
		return 0, transport.ErrWriteBufferOverflow
	}
	c.grabOut()
	c.out = append(c.out, p...)
	c.finishWriteLocked()
	return len(p), nil
}

// WriteSequence writes bufs in order as one write. Any goroutine.
func (c *conn) WriteSequence(bufs [][]byte) error {
	c.mu.Lock()
	if c.writeClosed {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	n := len(c.out)
	for _, b := range bufs {
		n += len(b)
	}
	if int64(n)+c.queued.Load() > int64(c.r.cfg.maxWrite) {
		c.writeClosed = true
		c.requestLocked(actOverflow)
		return transport.ErrWriteBufferOverflow
	}
	c.grabOut()
	for _, b := range bufs {
		c.out = append(c.out, b...)
	}
	c.finishWriteLocked()
	return nil
}

// finishWriteLocked ends a write (c.mu held; it unlocks). The loop checks the
// watermarks when it flushes, but a writer on another goroutine (a relay on
// another loop) could outrun a busy loop; so when the output passes the high
// watermark and the registered streaming producer is a transport (whose
// methods are safe anywhere), the writer pauses it at once, before the loop
// hears of it, and the loop takes the pause over and resumes it on drain.
func (c *conn) finishWriteLocked() {
	var t transport.Transport
	if c.producer != nil && c.streaming && !c.wPausing && !c.wPaused {
		if high, _ := c.watermarks(); int64(len(c.out))+c.queued.Load() > int64(high) {
			t, _ = c.producer.(transport.Transport)
		}
	}
	if t == nil {
		c.requestLocked(0)
		return
	}
	gen := c.producerGen
	c.wPausing = true
	c.mu.Unlock()
	t.PauseProducing()
	c.mu.Lock()
	c.wPausing = false
	c.wPaused = c.producerGen == gen // still the producer it paused
	c.requestLocked(0)
}

// outPool holds output buffers between flushes: a connection holds one only
// while it has unflushed output, so idle connections cost no buffer at all.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// grabOut gives c an output buffer from the pool if it has none. c.mu held.
func (c *conn) grabOut() {
	if c.outp == nil {
		c.outp = outPool.Get().(*[]byte)
		c.out = (*c.outp)[:0]
	}
}

// LoseConnection closes after flushing (and after the producer, if any,
// unregistered). Any goroutine.
func (c *conn) LoseConnection() {
	c.mu.Lock()
	if c.losing || c.gone {
		c.mu.Unlock()
		return
	}
	c.losing = true
	if c.producer == nil {
		c.writeClosed = true // with a producer, writes stay open until it unregisters
	}
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.requestLocked(actLose)
}

// AbortConnection closes at once with a reset. Any goroutine.
func (c *conn) AbortConnection() {
	c.mu.Lock()
	if c.gone || c.acts&actAbort != 0 {
		c.mu.Unlock()
		return
	}
	c.writeClosed = true
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.requestLocked(actAbort)
}

// RegisterProducer registers the producer of this connection's output. Any goroutine.
func (c *conn) RegisterProducer(p transport.Producer, streaming bool) error {
	c.mu.Lock()
	if c.gone || (c.writeClosed && !c.losing) {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	if c.producer != nil {
		c.mu.Unlock()
		return transport.ErrProducerRegistered
	}
	c.producer, c.streaming = p, streaming
	c.producerGen++ // the loop notices the change
	c.wPaused = false
	c.requestLocked(0)
	return nil
}

// UnregisterProducer removes the producer. Any goroutine.
func (c *conn) UnregisterProducer() {
	c.mu.Lock()
	if c.producer == nil {
		c.mu.Unlock()
		return
	}
	c.producer = nil
	c.producerGen++ // the loop notices the change
	c.wPaused = false
	if c.losing {
		c.writeClosed = true
	}
	c.requestLocked(0)
}

// PauseProducing stops delivering and reading. Any goroutine.
func (c *conn) PauseProducing() {
	if c.readPaused.Swap(true) {
		return
	}
	c.mu.Lock()
	c.requestLocked(actRead)
}

// ResumeProducing restarts delivering and reading. Any goroutine.
func (c *conn) ResumeProducing() {
	if !c.readPaused.Swap(false) {
		return
	}
	c.mu.Lock()
	c.requestLocked(actRead)
}

// StopProducing loses the connection. It is what a consumer calls when it
// goes; if this connection is closing already, it makes the loop look again
// at whether it may finish (its producer, that consumer, is gone). Any
// goroutine.
func (c *conn) StopProducing() {
	c.LoseConnection()
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return
	}
	c.requestLocked(0)
}

// SetWriteWatermarks sets this connection's watermarks. Any goroutine.
func (c *conn) SetWriteWatermarks(high, low int) {
	if high > 0 {
		c.high.Store(int64(high))
	}
	if low > 0 {
		c.low.Store(int64(low))
	}
}

func (c *conn) watermarks() (high, low int) {
	high, low = int(c.high.Load()), int(c.low.Load())
	if high == 0 {
		high = c.r.cfg.highWater
	}
	if low == 0 {
		low = c.r.cfg.lowWater
	}
	return high, min(low, high)
}

// RemoteAddr returns the peer's address. Any goroutine.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr returns the local address. Any goroutine.
func (c *conn) LocalAddr() net.Addr { return c.local }

// Connected reports whether the connection is open and not closing. Any goroutine.
func (c *conn) Connected() bool { return c.state.Load() == stateOpen }

// Disconnecting reports whether the connection is closing or closed. Any goroutine.
func (c *conn) Disconnecting() bool { return c.state.Load() != stateOpen }

// Loop returns the connection's loop. Any goroutine.
func (c *conn) Loop() transport.Loop { return &c.loopView }

// sockopt runs fn on the descriptor while it is certainly this connection's:
// gnet closes a descriptor only after OnClose, which takes c.mu to mark it gone.
func (c *conn) sockopt(fn func(fd int) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || !c.opened.Load() {
		return transport.ErrClosed
	}
	return fn(c.fd)
}

// SetTCPNoDelay sets TCP_NODELAY. Any goroutine.
func (c *conn) SetTCPNoDelay(noDelay bool) error {
	v := 0
	if noDelay {
		v = 1
	}
	return c.sockopt(func(fd int) error {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v))
	})
}

// SetTCPKeepAlive sets TCP keep-alive. Any goroutine.
func (c *conn) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	return c.sockopt(func(fd int) error { return setKeepAlive(fd, idle, interval, count) })
}

func setKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0))
	}
	if interval <= 0 {
		interval = idle
	}
	if count <= 0 {
		count = 9
	}
	secs := func(d time.Duration) int {
		if s := int(d / time.Second); s > 0 {
			return s
		}
		return 1
	}
	for _, o := range []struct{ level, opt, v int }{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs(idle)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs(interval)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, count},
	} {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.v); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return nil
}

// connLoop is a connection's view of its loop: callbacks scheduled through it
// run on the loop, and a panic in them aborts that connection.
type connLoop struct{ c *conn }

// Now returns the current time. Any goroutine.
func (v *connLoop) Now() time.Time { return time.Now() }

// CallLater runs fn on the connection's loop after d. Any goroutine.
func (v *connLoop) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	return newDelayedCall(v.c.l, d, v.wrap("timer", fn))
}

// CallSoon runs fn on the connection's loop. Any goroutine.
func (v *connLoop) CallSoon(fn func()) error { return v.c.l.submit(v.wrap("CallSoon", fn)) }

// DeferToGoroutine runs fn on the worker pool, then then on the connection's
// loop. Any goroutine.
func (v *connLoop) DeferToGoroutine(fn func() (any, error), then func(any, error)) {
	v.c.r.workers.run(v.c.l, fn, func(res any, err error) {
		v.c.guard("DeferToGoroutine callback", func() { then(res, err) })
	})
}

func (v *connLoop) wrap(what string, fn func()) func() {
	return func() { v.c.guard(what, fn) }
}

var errRefused = errors.New("reactor: factory refused the connection")
