package policies

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// TimeoutFactory wraps f so that a connection idle for d is closed with
// LoseConnection: Twisted's TimeoutFactory. Every chunk received and every
// write through the wrapper counts as activity. The wrapped protocol sees an
// ordinary clean close (a reason matching transport.ErrConnectionDone).
//
// The timer runs on the connection's loop clock (Transport().Loop()), so
// tests drive it with transporttest's fake clock. Activity is recorded as a
// time stamp, not by moving the timer: when the timer fires early because of
// activity, it is set again for the time left. It is cancelled when the
// connection is lost. A d of 0 or less means no timeout. Any goroutine may
// call TimeoutFactory.
func TimeoutFactory(f factory.Factory, d time.Duration) *WrappingFactory {
	if d <= 0 {
		return NewWrappingFactory(f, nil)
	}
	return NewWrappingFactory(f, idleTimeout(d))
}

type idleTimeout time.Duration

// Build gives each connection its timer. Loop goroutine.
func (d idleTimeout) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, Hooks) {
	p := next()
	if p == nil {
		return nil, nil
	}
	return p, &timeoutConn{d: time.Duration(d)}
}

// timeoutConn is one connection's idle timer.
type timeoutConn struct {
	d time.Duration

	// Set in ConnectionMade, before the wrapped protocol is connected and
	// anything can write; read-only afterwards.
	w     *ProtocolWrapper
	clock transport.Clock
	base  time.Time

	last atomic.Int64 // time of the last activity, as a time.Duration since base

	timer transport.DelayedCall // loop goroutine only
}

// ConnectionMade starts the timer. Loop goroutine.
func (c *timeoutConn) ConnectionMade(w *ProtocolWrapper) {
	c.w = w
	c.clock = w.Loop()
	c.base = c.clock.Now()
	c.timer = c.clock.CallLater(c.d, c.expire)
}

// DataReceived records activity. Loop goroutine.
func (c *timeoutConn) DataReceived(*ProtocolWrapper, []byte) { c.touch() }

// Wrote records activity. Any goroutine.
func (c *timeoutConn) Wrote(*ProtocolWrapper, []byte) { c.touch() }

func (c *timeoutConn) touch() { c.last.Store(int64(c.clock.Now().Sub(c.base))) }

// expire closes the connection if it was idle for d, or waits for the rest.
// Loop goroutine.
func (c *timeoutConn) expire() {
	idle := c.clock.Now().Sub(c.base) - time.Duration(c.last.Load())
	if idle < c.d {
		c.timer = c.clock.CallLater(c.d-idle, c.expire)
		return
	}
	c.timer = nil
	c.w.LoseConnection()
}

// ConnectionLost cancels the timer. Loop goroutine.
func (c *timeoutConn) ConnectionLost(*ProtocolWrapper, error) {
	if c.timer != nil {
		_ = c.timer.Cancel()
		c.timer = nil
	}
}
