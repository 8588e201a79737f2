package reactor

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// readWanted reports whether the socket should be read: until the peer's FIN,
// unless the protocol paused reading; a closing connection is read (and what
// arrives discarded) whatever the pause. Loop goroutine.
func (c *conn) readWanted() bool {
	if c.lf&(fReadEOF|fClosed) != 0 {
		return false
	}
	return c.state.Load() != stateOpen || !c.readPaused.Load()
}

// readReg reports whether the poller should report read events: read
// interest leaves it only for a pause; after the peer's FIN an
// edge-triggered registration stays quiet, and removing it would cost a
// system call for nothing. Loop goroutine.
func (c *conn) readReg() bool { return c.readWanted() || c.lf&fReadEOF != 0 }

// readable reads the socket on a read event: until it is empty (a short read,
// or EAGAIN), the peer's FIN, or maxReadsPerEvent reads, after which the rest
// waits behind the loop's other work. hup means the peer closed or the socket
// failed: then a short read does not prove the socket empty. Loop goroutine,
// inside a dispatch.
func (c *conn) readable(hup bool) {
	buf := c.l.buf
	for range maxReadsPerEvent {
		if !c.readWanted() {
			return
		}
		n, err := unix.Read(int(c.fd), buf)
		if n > 0 {
			c.l.st.bytesIn.Add(int64(n))
			c.deliver(buf[:n])
			if c.lf&fClosed != 0 || (n < len(buf) && !hup) {
				return
			}
			continue
		}
		switch {
		case err == nil:
			c.readEOF()
			return
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		default:
			c.replaceCloseReason(transport.Lost(os.NewSyscallError("read", err)))
			c.closeNow(nil, false)
			return
		}
	}
	_ = c.l.submit(func() {
		if c.lf&fClosed == 0 {
			c.readable(hup)
		}
	})
}

// received handles bytes read from the socket. Loop goroutine, inside a
// dispatch.
func (c *conn) received(data []byte) {
	if c.state.Load() != stateOpen {
		return // closing: input is read and discarded
	}
	if x := c.x.Load(); x != nil {
		if x.idleTimer != nil {
			x.lastRead = time.Now()
		}
		if x.tlsPending.Load() {
			c.installTLS() // StartTLS was called off the loop
		}
	}
	defer c.recoverPanic("DataReceived")
	c.proto.DataReceived(data)
}

// readEOF handles the peer's FIN. Loop goroutine, inside a dispatch.
func (c *conn) readEOF() {
	c.lf |= fReadEOF
	if c.lflag(fLingering) {
		c.closeNow(nil, false) // the reason was recorded when lingering began
		return
	}
	if c.state.Load() != stateOpen {
		return // closing: it ends once the output is out, without lingering
	}
	if hc, ok := c.proto.(protocol.HalfCloseable); ok {
		c.guard("ReadConnectionLost", hc.ReadConnectionLost)
		if c.lf&(fWriteShut|fClosed) == fWriteShut {
			c.closeNow(transport.ErrConnectionDone, false)
		}
		return
	}
	c.loseOnEOF()
}

// loseOnEOF closes a connection whose peer sent its FIN and whose protocol
// does not handle half-close: once written output has drained, whatever
// producer is registered (Twisted closes at once, dropping the output).
// Loop goroutine.
func (c *conn) loseOnEOF() {
	c.lf |= fEOFClose
	c.mu.Lock()
	c.mf |= mLosing | mWriteClosed
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.requestLocked(actLose)
}

// reconcileRead applies PauseProducing/ResumeProducing (and a close, which
// reads whatever the pause) to the poller, and reads at once when reading is
// back on: with edge-triggered readiness, data that arrived meanwhile may not
// be reported again. Loop goroutine, inside a dispatch.
func (c *conn) reconcileRead() {
	if c.resumed.Load() && c.resumed.Swap(false) && !c.readPaused.Load() && c.state.Load() == stateOpen {
		// Tell the protocol before reading more: a receiver delivers what
		// it held back when the pause stopped it mid-chunk.
		if rr, ok := c.proto.(protocol.ReadResumer); ok {
			c.guard("ReadingResumed", rr.ReadingResumed)
			if c.lf&fClosed != 0 {
				return
			}
		}
	}
	want := c.readWanted()
	if err := c.setInterest(c.readReg(), c.sending != nil); err != nil {
		c.pollFailed(err)
		return
	}
	if !want {
		return
	}
	if x := c.x.Load(); x != nil && x.idleTimer != nil {
		x.lastRead = time.Now() // a paused connection was not idle
	}
	c.readable(true)
}

// checkIdle closes the connection when nothing was received for the idle
// timeout. Loop goroutine.
func (c *conn) checkIdle() {
	if c.lf&fClosed != 0 || c.state.Load() != stateOpen {
		return
	}
	r, x := c.r(), c.ext()
	d := c.p.cfg.idleTimeout
	idle := time.Since(x.lastRead)
	if c.readPaused.Load() || idle < d {
		x.idleTimer.Reset(d - min(idle, d) + time.Millisecond)
		return
	}
	r.log.Debug().Stringer("peer", c.remote).Dur("idle", idle).Msg("read idle timeout")
	c.mu.Lock()
	if c.mf&(mLosing|mGone) != 0 {
		c.mu.Unlock()
		return
	}
	x.loseReason = fmt.Errorf("%w: %w", transport.ErrConnectionDone, transport.ErrIdleTimeout)
	c.mu.Unlock()
	c.LoseConnection()
}
