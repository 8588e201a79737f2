package reactor

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// service flushes pending output and carries out requested actions.
// Loop goroutine.
func (c *conn) service() {
	if c.lf&fClosed != 0 {
		return
	}
	c.mu.Lock()
	var bp *[]byte
	lent := c.takeLentLocked() // first in line: lending needs nothing pending
	if c.sending == nil {      // else the write event takes the output in order
		bp = c.outp
		c.outp = nil
	}
	acts := c.acts
	c.acts = 0
	c.mf &^= mFlushPending
	wPaused := c.mflag(mWPaused)
	changed := c.mflag(mProdChanged)
	self, streaming := c.mflag(mSelfProducer), c.mflag(mStreaming)
	c.mf &^= mWPaused | mProdChanged
	var prod transport.Producer
	if x := c.x.Load(); changed && x != nil {
		prod = x.producer
	}
	c.mu.Unlock()
	r := c.r()
	switch {
	case acts&actOverflow != 0:
		putOut(bp)
		r.log.Warn().Stringer("peer", c.remote).Int("max", c.p.cfg.maxWrite).Msg("write buffer overflow; aborting connection")
		c.abortNow(transport.Aborted(c.overflowError()))
		return
	case acts&actAbort != 0:
		putOut(bp)
		reason := transport.ErrConnectionAborted
		c.mu.Lock()
		if x := c.x.Load(); x != nil && errors.Is(x.loseReason, transport.ErrConnectionAborted) {
			reason = x.loseReason // aborted while CloseWithError drained: keep why
		}
		c.mu.Unlock()
		c.abortNow(reason)
		return
	}
	if lent != nil {
		flushBP, open := c.flushLent(lent, bp)
		if !open {
			return
		}
		if !flushBP {
			bp = nil // held behind what the kernel refused
		}
	}
	if bp != nil && !c.flush(bp) {
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
	if acts&actLoseWrite != 0 {
		c.lf |= fShutWrPending
	}
	if acts&(actLose|actRead) != 0 {
		if acts&actLose != 0 {
			c.lf |= fDraining
		}
		c.reconcileRead()
	}
	if c.lf&fClosed == 0 {
		c.afterOutput()
	}
}

// flush writes bp to the socket, keeping what the kernel refuses in
// c.sending (and asking for the write event). It reports whether the
// connection is still open. Loop goroutine.
func (c *conn) flush(bp *[]byte) bool {
	buf := *bp
	if len(buf) == 0 {
		putOut(bp)
		return true
	}
	n, err := writeFD(int(c.fd), buf)
	c.l.st.bytesOut.Add(int64(n))
	if n == len(buf) {
		putOut(bp)
		return true
	}
	if err != nil && err != unix.EAGAIN {
		putOut(bp)
		c.closeNow(transport.Lost(fmt.Errorf("write: %w", err)), false)
		return false
	}
	return c.refused(bp, n)
}

// refused keeps (*bp)[n:], which the kernel refused, in c.sending and asks
// for the write event. It reports whether the connection is still open.
// Loop goroutine.
func (c *conn) refused(bp *[]byte, n int) bool {
	c.sending, c.off = bp, int32(n)
	c.setQueued(int64(len(*bp) - n))
	if err := c.setInterest(c.readReg(), true); err != nil {
		c.pollFailed(err)
		return false
	}
	c.l.watch(c)
	return true
}

// writable runs on the write event: it writes what the kernel refused before,
// then what was written meanwhile, and checks the drain. Loop goroutine.
func (c *conn) writable() {
	buf := (*c.sending)[c.off:]
	n, err := writeFD(int(c.fd), buf)
	c.l.st.bytesOut.Add(int64(n))
	if err != nil && err != unix.EAGAIN {
		c.closeNow(transport.Lost(fmt.Errorf("write: %w", err)), false)
		return
	}
	if n <= 0 {
		return
	}
	c.ext().since = time.Now() // progress
	if n < len(buf) {
		c.off += int32(n)
		c.setQueued(int64(len(buf) - n))
		c.afterOutput()
		return
	}
	putOut(c.sending)
	c.sending, c.off = nil, 0
	c.setQueued(0)
	c.l.unwatch(c)
	c.mu.Lock()
	bp := c.outp
	c.outp = nil
	c.mu.Unlock()
	if bp != nil && !c.flush(bp) {
		return
	}
	if c.sending == nil {
		if err := c.setInterest(c.readReg(), false); err != nil {
			c.pollFailed(err)
			return
		}
	}
	c.afterOutput()
}

// setQueued records the bytes the kernel refused, held in sending, and
// keeps the loop's Buffered gauge. Loop goroutine.
func (c *conn) setQueued(n int64) {
	if old := c.queued.Swap(n); old != n {
		c.l.st.buffered.Add(n - old)
	}
}

// writeFD writes buf, retrying on EINTR; n is never negative.
func writeFD(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Write(fd, buf)
		if err == unix.EINTR {
			continue
		}
		return max(n, 0), err
	}
}

// pollFailed ends a connection the poller refused to watch.
func (c *conn) pollFailed(err error) {
	c.r().log.Error().Err(err).Stringer("peer", c.remote).Msg("poller refused the connection; aborting it")
	c.abortNow(transport.Aborted(err))
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

// buffered returns the output not yet taken by the kernel: what the kernel
// refused plus what was written since. Loop goroutine.
func (c *conn) buffered() int {
	if c.sending == nil {
		return 0 // service and writable flush whirl's buffer before they look
	}
	c.mu.Lock()
	n := c.pendingLocked()
	c.mu.Unlock()
	return int(c.queued.Load()) + n
}

// afterOutput looks at the output after a flush or a write event:
// watermarks, and when it is all gone, pull producers and closes.
// Loop goroutine.
func (c *conn) afterOutput() {
	left := c.buffered()
	if left == 0 && c.lf&(fFull|fDraining|fShutWrPending) == 0 && c.x.Load() == nil {
		return // the common case: everything went out, nothing to do
	}
	high, low := c.watermarks()
	if left > high && !c.lflag(fFull) {
		c.lf |= fFull
		if p := c.producer(); p != nil && c.lf&(fProdStreaming|fProdPaused) == fProdStreaming {
			c.lf |= fProdPaused
			c.r().safeCall("PauseProducing", p.PauseProducing)
		}
		if n := c.notifier(); n != nil && c.lf&fClosed == 0 {
			c.guard("WriteBufferFull", n.WriteBufferFull)
		}
	} else if c.lflag(fFull) && left < low {
		c.drained()
	}
	if left == 0 && c.lf&fClosed == 0 {
		c.empty()
	}
}

// drained runs when output fell below the low watermark after being full.
func (c *conn) drained() {
	c.lf &^= fFull
	if p := c.producer(); p != nil && c.lf&(fProdStreaming|fProdPaused) == fProdStreaming|fProdPaused {
		c.lf &^= fProdPaused
		c.r().safeCall("ResumeProducing", p.ResumeProducing)
	}
	if n := c.notifier(); n != nil && c.lf&fClosed == 0 {
		c.guard("WriteBufferDrained", n.WriteBufferDrained)
	}
}

// empty runs when all output left whirl's buffers.
func (c *conn) empty() {
	// As Twisted's doWrite: a pull producer, or a streaming one still
	// paused, is asked for more; only then may a close go on.
	p := c.producer()
	if c.lf&fEOFClose != 0 {
		p = nil // the peer is gone: no more is asked for, nothing holds the close
	}
	if p != nil && (!c.lflag(fProdStreaming) || c.lflag(fProdPaused)) {
		c.lf &^= fProdPaused
		c.r().safeCall("ResumeProducing", p.ResumeProducing)
		return
	}
	if c.lf&fShutWrPending != 0 && c.lf&fDraining == 0 {
		if !c.outputPending() {
			c.halfClose()
		}
		return
	}
	if !c.lflag(fDraining) || c.lflag(fLingering) {
		return
	}
	// As Twisted's ITransport.loseConnection promises: not closed while a
	// producer is registered, unless it is a transport that has gone.
	if p != nil && transport.HoldsClose(p) {
		return
	}
	if c.outputPending() {
		return // serviced again soon
	}
	c.finishLose()
}

// outputPending reports whether a Write left output that the loop has not
// flushed yet (it is serviced again soon). Loop goroutine.
func (c *conn) outputPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingLocked() > 0
}

// halfClose sends the FIN of LoseWriteConnection. Loop goroutine.
func (c *conn) halfClose() {
	c.lf &^= fShutWrPending
	if !c.sendFIN() {
		return
	}
	if hc, ok := c.proto.(protocol.HalfCloseable); ok {
		c.guard("WriteConnectionLost", hc.WriteConnectionLost)
	}
	if c.lf&(fReadEOF|fClosed) == fReadEOF {
		c.closeNow(transport.ErrConnectionDone, false)
	}
}

// sendFIN shuts the socket's write side (the FIN follows the data already
// queued). It reports whether the connection is still open: a failure closes
// it as lost. Loop goroutine.
func (c *conn) sendFIN() bool {
	c.lf |= fWriteShut
	if err := unix.Shutdown(int(c.fd), unix.SHUT_WR); err != nil {
		c.closeNow(transport.Lost(fmt.Errorf("shutdown: %w", err)), false)
		return false
	}
	return true
}

// finishLose ends a LoseConnection once the output is out: FIN, then the
// lingering close, unless the peer's FIN is already in. Loop goroutine.
func (c *conn) finishLose() {
	reason := transport.ErrConnectionDone
	if x := c.x.Load(); x != nil && x.loseReason != nil {
		reason = x.loseReason
	}
	if c.lflag(fReadEOF) {
		// The peer's FIN is in: closing sends ours after the data, and
		// nothing unread is left to make the kernel reset instead.
		c.closeNow(reason, false)
		return
	}
	if c.lf&fWriteShut == 0 && !c.sendFIN() {
		return
	}
	// Linger: read and discard until the peer's FIN, so that closing does
	// not make the kernel reset the connection and drop what it still holds
	// for the peer; or until the peer acknowledged every byte (FIN included),
	// after which nothing of ours can be lost.
	c.lf |= fLingering
	c.setCloseReason(reason)
	x := c.ext()
	x.lingerStart = time.Now()
	x.lingerDelay = lingerFirstCheck
	x.lingerTimer = time.AfterFunc(x.lingerDelay, func() { _ = c.l.submit(c.lingerCheck) })
	c.reconcileRead()
}

// While lingering, the loop checks how much the peer has not acknowledged:
// after a millisecond, doubling to lingerMaxCheck.
const (
	lingerFirstCheck = time.Millisecond
	lingerMaxCheck   = 100 * time.Millisecond
)

// lingerCheck ends a lingering close once the peer acknowledged every byte;
// at the linger timeout it closes anyway, as lost if bytes are still not
// acknowledged. Loop goroutine.
func (c *conn) lingerCheck() {
	if c.lf&fClosed != 0 {
		return
	}
	x := c.x.Load()
	n, err := unacked(int(c.fd))
	if err == nil && n == 0 {
		c.closeNow(nil, false) // with the reason recorded when lingering began
		return
	}
	limit := c.p.cfg.lingerTimeout
	waited := time.Since(x.lingerStart)
	if waited < limit {
		x.lingerDelay = min(2*x.lingerDelay, lingerMaxCheck, limit-waited)
		x.lingerTimer.Reset(x.lingerDelay)
		return
	}
	cause := fmt.Errorf("%w after %v", transport.ErrLingerTimeout, limit)
	if err == nil {
		cause = fmt.Errorf("%w after %v with %d bytes not acknowledged", transport.ErrLingerTimeout, limit, n)
	}
	c.replaceCloseReason(transport.Lost(cause))
	c.closeNow(nil, false)
}

// replaceCloseReason records err even if a clean reason was recorded.
// Loop goroutine.
func (c *conn) replaceCloseReason(err error) {
	c.lf &^= fLost
	c.ext().closeReason = err
}

// abortNow closes the connection with a reset. Loop goroutine.
func (c *conn) abortNow(reason error) {
	if c.lf&fClosed != 0 {
		return
	}
	c.state.Store(stateDisconnecting)
	if c.lflag(fLingering) {
		c.replaceCloseReason(reason) // the linger's clean reason no longer holds
	}
	c.closeNow(reason, true)
}
