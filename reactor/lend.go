package reactor

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// Lending (docs/design.md, Writes): the bytes DataReceived gets are a slice of
// the loop's read buffer, which nothing overwrites until the loop reads
// again. A Write of such a slice, to a connection with nothing else pending,
// is held in the loop's lending slot instead of copied; the loop flushes it
// right after DataReceived returns (writing from the read buffer) and copies
// only what the kernel refuses. One slot per loop: a second lend in the same
// call copies, as every Write did before.

// inReadBuf reports whether p lies in the loop's read buffer (which never
// moves: it is allocated once, before the loop runs). Any goroutine.
func (l *loop) inReadBuf(p []byte) bool {
	b := l.buf
	if len(p) == 0 || cap(b) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return at >= start && at+uintptr(len(p)) <= start+uintptr(cap(b))
}

// tryLendLocked holds p in the lending slot if it can: p is a slice of the
// read buffer, DataReceived is running, the slot is free and c has no other
// output. c.mu held. Any goroutine (p in the read buffer means the loop's,
// by DataReceived's contract; the checks that matter are atomic anyway).
func (c *conn) tryLendLocked(p []byte) bool {
	l := c.l
	if c.outp != nil || c.queued.Load() != 0 || !l.lendOK.Load() || !l.inReadBuf(p) {
		return false
	}
	if !l.lendConn.CompareAndSwap(nil, c) {
		return false
	}
	l.lend = p
	return true
}

// lentLocked returns the bytes lent to c, or nil. c.mu held.
func (c *conn) lentLocked() []byte {
	if c.l.lendConn.Load() != c {
		return nil
	}
	return c.l.lend
}

// takeLentLocked empties the slot if it is lent to c and returns what it
// held. c.mu held.
func (c *conn) takeLentLocked() []byte {
	l := c.l
	if l.lendConn.Load() != c {
		return nil
	}
	b := l.lend
	l.lend = nil
	l.lendConn.Store(nil)
	return b
}

// unlendLocked copies the bytes lent to c into its own output buffer, ahead
// of anything written after them. c.mu held.
func (c *conn) unlendLocked() {
	if b := c.takeLentLocked(); b != nil {
		out := c.grabOut()
		*out = append(*out, b...)
	}
}

// deliver runs DataReceived with data, a slice of the read buffer, with
// lending on, and then flushes what was lent: the read buffer is about to be
// read into again. Loop goroutine, inside a dispatch.
func (c *conn) deliver(data []byte) {
	l := c.l
	l.lendOK.Store(true)
	c.received(data)
	l.lendOK.Store(false)
	if lc := l.lendConn.Load(); lc != nil {
		lc.service()
	}
}

// flushLent writes the lent bytes b to the socket. What the kernel refuses is
// copied, with the output written after it (bp, which may be nil), into a
// pooled buffer that the write event sends. It reports whether bp is still
// to be flushed and whether the connection is still open. Loop goroutine.
func (c *conn) flushLent(b []byte, bp *[]byte) (flushBP, open bool) {
	n, err := writeFD(int(c.fd), b)
	c.l.st.bytesOut.Add(int64(n))
	if n == len(b) {
		return true, true
	}
	if err != nil && err != unix.EAGAIN {
		putOut(bp)
		c.closeNow(transport.Lost(fmt.Errorf("write: %w", err)), false)
		return false, false
	}
	n = max(n, 0)
	held := outPool.Get().(*[]byte)
	*held = append((*held)[:0], b[n:]...)
	if bp != nil {
		*held = append(*held, *bp...)
		putOut(bp)
	}
	return false, c.refused(held, 0)
}
