package tlsproto

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// memConn is the net.Conn under a tls.Conn: ciphertext the loop received,
// and the transport to write to.
//
// During the handshake its Read blocks (on the handshake's goroutine) until
// the loop feeds bytes; after it, Read runs on the loop and returns
// errWouldBlock when it has nothing, which crypto/tls passes up without
// keeping it as a failure. Write hands the bytes to the transport at once
// and never fails: crypto/tls keeps a write error for good, and the
// transport's error is kept in werr for the Conn to report.
type memConn struct {
	c *Conn

	mu       sync.Mutex
	wake     sync.Cond // signalled when in, eof or closed change (blocking reads)
	in       []byte    // received and not yet read, owned
	src      []byte    // borrowed from DataReceived while it runs (loop, after the handshake)
	blocking bool      // the handshake goroutine reads
	eof      bool      // the transport's input ended
	closed   bool      // the connection is gone

	werr atomic.Pointer[error] // the transport's first write error
}

// errWouldBlock is what Read returns after the handshake when it has no
// bytes: a net.Error whose Temporary is true, which crypto/tls's
// readRecordOrCCS returns without making it the connection's error.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tlsproto: no more input for now" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var _ net.Conn = (*memConn)(nil)

func (m *memConn) init(c *Conn) {
	m.c = c
	m.wake.L = &m.mu
	m.blocking = true
}

// Read implements net.Conn for crypto/tls. Handshake goroutine (blocking),
// then loop goroutine.
func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if len(m.in) > 0 {
			n := copy(p, m.in)
			m.in = m.in[n:]
			if len(m.in) == 0 {
				m.in = nil // an idle connection keeps no input buffer
			}
			return n, nil
		}
		if len(m.src) > 0 {
			n := copy(p, m.src)
			m.src = m.src[n:]
			return n, nil
		}
		switch {
		case m.closed:
			return 0, net.ErrClosed
		case m.eof:
			return 0, io.EOF
		case !m.blocking:
			return 0, errWouldBlock
		}
		m.wake.Wait()
	}
}

// feed appends a copy of data to the input and wakes a blocked Read. Loop
// goroutine.
func (m *memConn) feed(data []byte) {
	m.mu.Lock()
	m.in = append(m.in, data...)
	m.mu.Unlock()
	m.wake.Signal()
}

// lend lets Read take data without a copy until keep. Loop goroutine,
// after the handshake.
func (m *memConn) lend(data []byte) {
	m.mu.Lock()
	if len(m.in) > 0 {
		m.in = append(m.in, data...) // behind what waits already
	} else {
		m.src = data
	}
	m.mu.Unlock()
}

// keep copies what Read did not take of the lent bytes: DataReceived's data
// is not ours after it returns. Loop goroutine.
func (m *memConn) keep() {
	m.mu.Lock()
	if len(m.src) > 0 {
		m.in = append(m.in, m.src...)
	}
	m.src = nil
	m.mu.Unlock()
}

// buffered returns how many received bytes wait. Any goroutine.
func (m *memConn) buffered() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.in) + len(m.src)
}

// firstRecord reports whether the input holds the first record whole, or
// enough of it to tell it is not a TLS handshake record: when a server's
// handshake is worth a goroutine. Loop goroutine.
func (m *memConn) firstRecord() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	const header = 5 // type, version (2), length (2)
	if len(m.in) < header {
		return false
	}
	if m.in[0] != 22 { // not a handshake record: crypto/tls says why at once
		return true
	}
	return len(m.in) >= header+(int(m.in[3])<<8|int(m.in[4]))
}

// stopBlocking ends the handshake's blocking reads. Handshake goroutine.
func (m *memConn) stopBlocking() {
	m.mu.Lock()
	m.blocking = false
	m.mu.Unlock()
}

// setEOF records the end of the transport's input. Loop goroutine.
func (m *memConn) setEOF() {
	m.mu.Lock()
	m.eof = true
	m.mu.Unlock()
	m.wake.Broadcast()
}

// Close drops the input and makes every Read fail: a blocked handshake
// returns. Any goroutine.
func (m *memConn) Close() error {
	m.mu.Lock()
	m.closed = true
	m.in, m.src = nil, nil
	m.mu.Unlock()
	m.wake.Broadcast()
	return nil
}

// Write hands p to the transport. It never fails (see memConn). Any
// goroutine, under crypto/tls's output lock.
func (m *memConn) Write(p []byte) (int, error) {
	if _, err := m.c.lower.Write(p); err != nil && m.werr.Load() == nil {
		m.werr.CompareAndSwap(nil, &err)
	}
	return len(p), nil
}

// writeErr returns the transport's first write error, or nil.
func (m *memConn) writeErr() error {
	if e := m.werr.Load(); e != nil {
		return *e
	}
	return nil
}

// LocalAddr returns the transport's. Any goroutine.
func (m *memConn) LocalAddr() net.Addr { return m.c.lower.LocalAddr() }

// RemoteAddr returns the transport's. Any goroutine.
func (m *memConn) RemoteAddr() net.Addr { return m.c.lower.RemoteAddr() }

// SetDeadline does nothing: the Conn's timer bounds the handshake and
// nothing else blocks. Any goroutine.
func (m *memConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing (see SetDeadline). Any goroutine.
func (m *memConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing: Write never blocks. Any goroutine.
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }
