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

// Actions requested from other goroutines, carried out by service on the loop.
const (
	actLose uint8 = 1 << iota
	actAbort
)

// maxRetained is the largest output buffer a connection keeps between flushes.
const maxRetained = 64 << 10

// Drain-check back-off while a close waits for output to leave.
const (
	drainFirstCheck = time.Millisecond
	drainMaxCheck   = 50 * time.Millisecond
)

// conn is one connection: whirl's Transport over a gnet.Conn.
type conn struct {
	r      *Reactor
	l      *loop
	f      factory.Factory
	local  net.Addr
	remote net.Addr

	state    atomic.Int32
	opened   atomic.Bool
	loopView connLoop

	mu           sync.Mutex // guards out, flushPending, acts, writeClosed, gone
	out          []byte
	flushPending bool
	acts         uint8
	writeClosed  bool
	gone         bool // closed: the descriptor may already belong to someone else

	// Loop goroutine only.
	gc            gnet.Conn
	fd            int
	proto         protocol.Protocol
	spare         []byte
	made          bool
	closeReason   error
	closeOnReturn bool
	draining      bool
	drainTimer    *time.Timer
	drainLeft     int
	drainSince    time.Time
	drainDelay    time.Duration
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
	c.made = true
	c.guard("ConnectionMade", func() { protocol.MakeConnection(p, c) })
}

func (c *conn) dataReceived(data []byte) {
	defer c.recoverPanic("DataReceived")
	c.proto.DataReceived(data)
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
	c.out = nil
	c.mu.Unlock()
	c.state.Store(stateClosed)
	if c.drainTimer != nil {
		c.drainTimer.Stop()
	}
	delete(c.l.conns, c)
	c.l.nconns.Add(-1)
	if c.made {
		c.made = false
		p := c.proto
		func() {
			defer func() {
				if v := recover(); v != nil {
					c.r.logPanic("ConnectionLost", newPanicError(v), c.remote)
				}
			}()
			p.ConnectionLost(reason)
		}()
	}
	c.r.connDone()
}

// service flushes pending output and carries out requested actions.
// Loop goroutine.
func (c *conn) service() {
	c.mu.Lock()
	buf := c.out
	c.out = c.spare
	c.spare = nil
	acts := c.acts
	c.acts = 0
	c.flushPending = false
	gone := c.gone
	c.mu.Unlock()
	if gone {
		return
	}
	if acts&actAbort != 0 {
		c.abortNow(transport.ErrConnectionAborted)
		return
	}
	if len(buf) > 0 {
		_, _ = c.gc.Write(buf) // on error gnet closes the connection (OnClose)
	}
	if cap(buf) <= maxRetained {
		c.spare = buf[:0]
	}
	if acts&actLose != 0 && !c.draining {
		c.draining = true
		c.drainSince = time.Now()
		c.drainLeft = -1
		c.drainDelay = drainFirstCheck
	}
	if c.draining {
		c.checkDrain()
	}
}

// checkDrain closes the connection cleanly once all output left, or aborts it
// when the output stopped moving for the drain timeout. Loop goroutine.
func (c *conn) checkDrain() {
	c.mu.Lock()
	gone := c.gone
	c.mu.Unlock()
	if gone || c.closeOnReturn {
		return
	}
	left := c.gc.OutboundBuffered()
	if left == 0 {
		// FIN after the data already queued in the kernel.
		_ = unix.Shutdown(c.fd, unix.SHUT_WR)
		c.closeReason = transport.ErrConnectionDone
		c.l.closeConn(c)
		return
	}
	now := time.Now()
	if c.drainLeft < 0 || left < c.drainLeft {
		c.drainLeft = left
		c.drainSince = now
	} else if now.Sub(c.drainSince) >= c.r.cfg.drainTimeout {
		c.abortNow(transport.Aborted(ErrDrainTimeout))
		return
	}
	d := c.drainDelay
	if c.drainDelay *= 2; c.drainDelay > drainMaxCheck {
		c.drainDelay = drainMaxCheck
	}
	if c.drainTimer == nil {
		c.drainTimer = time.AfterFunc(d, func() { _ = c.l.submit(c.checkDrain) })
	} else {
		c.drainTimer.Reset(d)
	}
}

// abortNow closes the connection with a reset. Loop goroutine.
func (c *conn) abortNow(reason error) {
	c.mu.Lock()
	gone := c.gone
	c.writeClosed = true
	c.mu.Unlock()
	if gone || c.closeOnReturn {
		return
	}
	c.state.Store(stateDisconnecting)
	if c.closeReason == nil {
		c.closeReason = reason
	}
	_ = c.gc.SetLinger(0)
	c.l.closeConn(c)
}

// request records an action (or just pending output) and kicks the loop.
func (c *conn) kickLocked() {
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
	c.out = append(c.out, p...)
	c.kickLocked()
	return len(p), nil
}

// WriteSequence writes bufs in order as one write. Any goroutine.
func (c *conn) WriteSequence(bufs [][]byte) error {
	c.mu.Lock()
	if c.writeClosed {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	for _, b := range bufs {
		c.out = append(c.out, b...)
	}
	c.kickLocked()
	return nil
}

// LoseConnection closes after flushing. Any goroutine.
func (c *conn) LoseConnection() {
	c.mu.Lock()
	if c.writeClosed {
		c.mu.Unlock()
		return
	}
	c.writeClosed = true
	c.acts |= actLose
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.kickLocked()
}

// AbortConnection closes at once with a reset. Any goroutine.
func (c *conn) AbortConnection() {
	c.mu.Lock()
	if c.gone || c.acts&actAbort != 0 {
		c.mu.Unlock()
		return
	}
	c.writeClosed = true
	c.acts |= actAbort
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.kickLocked()
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

var errRefused = errors.New("reactor: factory refused the connection")
