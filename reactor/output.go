package reactor

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// maxRetained is the largest output buffer given back to the pool after a flush.
const maxRetained = 64 << 10

// While gnet holds output for a connection, whirl checks on a timer how much
// is left (gnet has no "drained" event): every millisecond while the output
// moves, backing off to drainMaxCheck while it does not.
const (
	drainFirstCheck = time.Millisecond
	drainMaxCheck   = 50 * time.Millisecond
)

// watchState tracks a connection whose output waits in gnet's buffer.
type watchState struct {
	on    bool
	timer *time.Timer
	left  int       // bytes left at the last progress
	since time.Time // time of the last progress
	delay time.Duration
}

// service flushes pending output and carries out requested actions.
// Loop goroutine.
func (c *conn) service() {
	c.mu.Lock()
	buf, bp := c.out, c.outp
	c.out, c.outp = nil, nil
	acts := c.acts
	c.acts = 0
	c.flushPending = false
	gone := c.gone
	prod, streaming, gen := c.producer, c.streaming, c.producerGen
	wPaused := c.wPaused
	c.wPaused = false
	c.mu.Unlock()
	if gone || c.closeOnReturn {
		return
	}
	switch {
	case acts&actOverflow != 0:
		c.r.log.Warn().Stringer("peer", c.remote).Int("max", c.r.cfg.maxWrite).Msg("write buffer overflow; aborting connection")
		c.abortNow(transport.Aborted(fmt.Errorf("%w: more than %d bytes buffered", transport.ErrWriteBufferOverflow, c.r.cfg.maxWrite)))
		return
	case acts&actAbort != 0:
		c.abortNow(transport.ErrConnectionAborted)
		return
	}
	if len(buf) > 0 {
		_, _ = c.gc.Write(buf) // on error gnet closes the connection (OnClose)
	}
	if bp != nil && cap(buf) <= maxRetained {
		*bp = buf[:0]
		outPool.Put(bp)
	}
	if c.isGone() {
		return
	}
	if gen != c.prodGen {
		c.producerChanged(prod, streaming, gen)
	}
	if wPaused && c.prod != nil {
		// A writer paused the producer (finishWriteLocked): take it over;
		// drained() resumes it.
		c.prodPaused = true
		if !c.full {
			c.full = true
			if c.notifier != nil {
				c.guard("WriteBufferFull", c.notifier.WriteBufferFull)
			}
		}
	}
	if acts&actLose != 0 {
		c.draining = true
	}
	if acts&actRead != 0 {
		c.reconcileRead()
		if c.isGone() || c.closeOnReturn {
			return
		}
	}
	c.afterOutput()
}

func (c *conn) isGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gone
}

// producerChanged applies a RegisterProducer or UnregisterProducer.
func (c *conn) producerChanged(p transport.Producer, streaming bool, gen uint64) {
	c.prod, c.prodStreaming, c.prodPaused, c.prodGen = p, streaming, false, gen
	if p == nil {
		return
	}
	if !streaming {
		c.r.safeCall("ResumeProducing", p.ResumeProducing)
	} else if c.full {
		c.prodPaused = true
		c.r.safeCall("PauseProducing", p.PauseProducing)
	}
}

// afterOutput looks at what gnet still holds after a flush: watermarks, the
// write-stall watch, the end of a LoseConnection. Loop goroutine.
func (c *conn) afterOutput() {
	left := c.gc.OutboundBuffered()
	c.queued.Store(int64(left))
	if c.epollPaused && left > 0 {
		c.setReadInterest(false) // gnet turned reading back on when it buffered
	}
	high, low := c.watermarks()
	if left > high && !c.full {
		c.full = true
		if c.prod != nil && c.prodStreaming && !c.prodPaused {
			c.prodPaused = true
			c.r.safeCall("PauseProducing", c.prod.PauseProducing)
		}
		if c.notifier != nil {
			c.guard("WriteBufferFull", c.notifier.WriteBufferFull)
		}
	} else if c.full && left < low {
		c.drained()
	}
	if left > 0 {
		c.startWatching(left)
		return
	}
	c.stopWatching()
	c.empty()
}

// drained runs when output fell below the low watermark after being full.
func (c *conn) drained() {
	c.full = false
	if c.prod != nil && c.prodStreaming && c.prodPaused {
		c.prodPaused = false
		c.r.safeCall("ResumeProducing", c.prod.ResumeProducing)
	}
	if c.notifier != nil && !c.isGone() {
		c.guard("WriteBufferDrained", c.notifier.WriteBufferDrained)
	}
}

// empty runs when all output left whirl's and gnet's buffers.
func (c *conn) empty() {
	// As Twisted's doWrite: a pull producer, or a streaming one still
	// paused, is asked for more; only then may a LoseConnection finish.
	if c.prod != nil && (!c.prodStreaming || c.prodPaused) {
		c.prodPaused = false
		c.r.safeCall("ResumeProducing", c.prod.ResumeProducing)
		return
	}
	// As Twisted's ITransport.loseConnection promises: not closed while a
	// producer is registered. A producer that is itself a transport and has
	// gone (the other side of a relay) no longer holds the close up.
	if c.draining && c.prod != nil && producerAlive(c.prod) {
		return
	}
	if c.draining {
		c.mu.Lock()
		pending := len(c.out) > 0
		c.mu.Unlock()
		if pending {
			return // serviced again soon
		}
		// FIN after the data already queued in the kernel.
		_ = unix.Shutdown(c.fd, unix.SHUT_WR)
		if c.closeReason == nil {
			c.closeReason = transport.ErrConnectionDone
			if c.loseReason != nil {
				c.closeReason = c.loseReason
			}
		}
		c.l.closeConn(c)
	}
}

func (c *conn) startWatching(left int) {
	w := &c.watch
	now := time.Now()
	if !w.on {
		w.on, w.left, w.since, w.delay = true, left, now, drainFirstCheck
	} else if left < w.left {
		w.left, w.since, w.delay = left, now, drainFirstCheck
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(w.delay, func() { _ = c.l.submit(c.watchTick) })
	} else {
		w.timer.Reset(w.delay)
	}
}

func (c *conn) stopWatching() {
	if c.watch.on {
		c.watch.on = false
		c.watch.timer.Stop()
	}
}

// watchTick checks progress of output held by gnet. Loop goroutine.
func (c *conn) watchTick() {
	w := &c.watch
	if !w.on || c.isGone() || c.closeOnReturn {
		return
	}
	left := c.gc.OutboundBuffered()
	c.queued.Store(int64(left))
	if _, low := c.watermarks(); c.full && left < low {
		c.drained()
		if c.isGone() {
			return
		}
	}
	if left == 0 {
		c.stopWatching()
		c.empty()
		return
	}
	now := time.Now()
	if left < w.left {
		w.left, w.since, w.delay = left, now, drainFirstCheck
	} else {
		limit, cause := c.r.cfg.stallTimeout, transport.ErrWriteStalled
		if c.draining {
			limit = c.r.cfg.drainTimeout
		}
		if limit > 0 && now.Sub(w.since) >= limit {
			c.r.log.Warn().Stringer("peer", c.remote).Int("buffered", left).Dur("for", limit).Msg("output stalled; aborting connection")
			c.abortNow(transport.Aborted(cause))
			return
		}
		if w.delay *= 2; w.delay > drainMaxCheck {
			w.delay = drainMaxCheck
		}
	}
	w.timer.Reset(w.delay)
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

// producerAlive reports whether p may still produce: a transport producer
// that is closing or closed may not.
func producerAlive(p transport.Producer) bool {
	if t, ok := p.(transport.Transport); ok {
		return t.Connected()
	}
	return true
}
