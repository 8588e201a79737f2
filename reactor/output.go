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
	bp := c.outp
	c.outp = nil
	acts := c.acts
	c.acts = 0
	c.mf &^= mFlushPending
	gone := c.mflag(mGone)
	wPaused := c.mflag(mWPaused)
	changed := c.mflag(mProdChanged)
	self, streaming := c.mflag(mSelfProducer), c.mflag(mStreaming)
	c.mf &^= mWPaused | mProdChanged
	var prod transport.Producer
	if x := c.x.Load(); changed && x != nil {
		prod = x.producer
	}
	c.mu.Unlock()
	if gone || c.lflag(fCloseOnReturn) {
		return
	}
	r := c.r()
	switch {
	case acts&actOverflow != 0:
		r.log.Warn().Stringer("peer", c.remote).Int("max", r.cfg.maxWrite).Msg("write buffer overflow; aborting connection")
		c.abortNow(transport.Aborted(fmt.Errorf("%w: more than %d bytes buffered", transport.ErrWriteBufferOverflow, r.cfg.maxWrite)))
		return
	case acts&actAbort != 0:
		c.abortNow(transport.ErrConnectionAborted)
		return
	}
	if bp != nil {
		if buf := *bp; len(buf) > 0 {
			_, _ = c.gc.Write(buf) // on error gnet closes the connection (OnClose)
		}
		if cap(*bp) <= maxRetained {
			*bp = (*bp)[:0]
			outPool.Put(bp)
		}
	}
	if c.isGone() {
		return
	}
	if changed {
		c.producerChanged(prod, self, streaming)
	}
	if wPaused && c.producer() != nil {
		// A writer paused the producer (finishWriteLocked): take it over;
		// drained() resumes it.
		c.lf |= fProdPaused
		if !c.lflag(fFull) {
			c.lf |= fFull
			if n := c.notifier(); n != nil {
				c.guard("WriteBufferFull", n.WriteBufferFull)
			}
		}
	}
	if acts&actLose != 0 {
		c.lf |= fDraining
	}
	if acts&actRead != 0 {
		c.reconcileRead()
		if c.isGone() || c.lflag(fCloseOnReturn) {
			return
		}
	}
	c.afterOutput()
}

func (c *conn) isGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mflag(mGone)
}

// producer returns the producer the loop knows of, or nil. Loop goroutine.
func (c *conn) producer() transport.Producer {
	if c.lflag(fProdSelf) {
		return c
	}
	if x := c.x.Load(); x != nil && x.prod != nil {
		return x.prod
	}
	return nil
}

// producerChanged applies a RegisterProducer or UnregisterProducer: p is the
// registered producer, unless self (the transport is its own). Loop goroutine.
func (c *conn) producerChanged(p transport.Producer, self, streaming bool) {
	c.setL(fProdSelf, self)
	if x := c.x.Load(); x != nil {
		x.prod = p
	}
	c.setL(fProdStreaming, streaming)
	c.lf &^= fProdPaused
	if self {
		p = c
	}
	if p == nil {
		return
	}
	if !streaming {
		c.r().safeCall("ResumeProducing", p.ResumeProducing)
	} else if c.lflag(fFull) {
		c.lf |= fProdPaused
		c.r().safeCall("PauseProducing", p.PauseProducing)
	}
}

// afterOutput looks at what gnet still holds after a flush: watermarks, the
// write-stall watch, the end of a LoseConnection. Loop goroutine.
func (c *conn) afterOutput() {
	left := c.gc.OutboundBuffered()
	c.queued.Store(int64(left))
	if left == 0 && c.lf&(fFull|fDraining) == 0 && c.x.Load() == nil {
		return // the common case: everything went out, nothing to watch
	}
	if c.lflag(fEpollPaused) && left > 0 {
		c.setReadInterest(false) // gnet turned reading back on when it buffered
	}
	high, low := c.watermarks()
	if left > high && !c.lflag(fFull) {
		c.lf |= fFull
		if p := c.producer(); p != nil && c.lf&(fProdStreaming|fProdPaused) == fProdStreaming {
			c.lf |= fProdPaused
			c.r().safeCall("PauseProducing", p.PauseProducing)
		}
		if n := c.notifier(); n != nil {
			c.guard("WriteBufferFull", n.WriteBufferFull)
		}
	} else if c.lflag(fFull) && left < low {
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
	c.lf &^= fFull
	if p := c.producer(); p != nil && c.lf&(fProdStreaming|fProdPaused) == fProdStreaming|fProdPaused {
		c.lf &^= fProdPaused
		c.r().safeCall("ResumeProducing", p.ResumeProducing)
	}
	if n := c.notifier(); n != nil && !c.isGone() {
		c.guard("WriteBufferDrained", n.WriteBufferDrained)
	}
}

// empty runs when all output left whirl's and gnet's buffers.
func (c *conn) empty() {
	// As Twisted's doWrite: a pull producer, or a streaming one still
	// paused, is asked for more; only then may a LoseConnection finish.
	p := c.producer()
	if p != nil && (!c.lflag(fProdStreaming) || c.lflag(fProdPaused)) {
		c.lf &^= fProdPaused
		c.r().safeCall("ResumeProducing", p.ResumeProducing)
		return
	}
	if !c.lflag(fDraining) {
		return
	}
	// As Twisted's ITransport.loseConnection promises: not closed while a
	// producer is registered. A producer that is itself a transport and has
	// gone (the other side of a relay) no longer holds the close up.
	if p != nil && producerAlive(p) {
		return
	}
	c.mu.Lock()
	pending := c.pendingLocked() > 0
	c.mu.Unlock()
	if pending {
		return // serviced again soon
	}
	// FIN after the data already queued in the kernel.
	_ = unix.Shutdown(c.gc.Fd(), unix.SHUT_WR)
	reason := transport.ErrConnectionDone
	if x := c.x.Load(); x != nil && x.loseReason != nil {
		reason = x.loseReason
	}
	c.setCloseReason(reason)
	c.l.closeConn(c)
}

func (c *conn) startWatching(left int) {
	w := &c.ext().watch
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
	if x := c.x.Load(); x != nil && x.watch.on {
		x.watch.on = false
		x.watch.timer.Stop()
	}
}

// watchTick checks progress of output held by gnet. Loop goroutine.
func (c *conn) watchTick() {
	w := &c.ext().watch
	if !w.on || c.isGone() || c.lflag(fCloseOnReturn) {
		return
	}
	left := c.gc.OutboundBuffered()
	c.queued.Store(int64(left))
	if _, low := c.watermarks(); c.lflag(fFull) && left < low {
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
		r := c.r()
		limit, cause := r.cfg.stallTimeout, transport.ErrWriteStalled
		if c.lflag(fDraining) {
			limit = r.cfg.drainTimeout
		}
		if limit > 0 && now.Sub(w.since) >= limit {
			r.log.Warn().Stringer("peer", c.remote).Int("buffered", left).Dur("for", limit).Msg("output stalled; aborting connection")
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
	gone := c.mflag(mGone)
	c.mf |= mWriteClosed
	c.mu.Unlock()
	if gone || c.lflag(fCloseOnReturn) {
		return
	}
	c.state.Store(stateDisconnecting)
	c.setCloseReason(reason)
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
