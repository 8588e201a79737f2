package transporttest

import (
	"net"
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// Transport is an in-memory [transport.Transport]: Twisted's StringTransport.
// It records what is written to it, and how it was closed, for a test to
// check; it sends nothing anywhere and never calls the protocol back.
//
// It closes as the reactor does, but without waiting for output to drain:
// AbortConnection closes it at once; LoseConnection closes it at once unless
// a registered producer holds the close up ([transport.HoldsClose]), in
// which case it is disconnecting, still takes writes, and closes when the
// producer unregisters. Once closed, writes and socket options fail with
// transport.ErrClosed. LoseWriteConnection shuts the write side only.
//
// A Transport must be made with [New] or [NewWithLoop]. Every method is safe
// to call from any goroutine.
type Transport struct {
	loop *Loop

	mu       sync.Mutex
	out      []byte
	local    net.Addr
	remote   net.Addr
	closing  bool // LoseConnection or AbortConnection was called
	closed   bool // Disconnected: closing, and no producer holds it up
	aborted  bool
	closeErr error
	wclosed  bool // LoseWriteConnection was called
	noDelay  bool
	idle     time.Duration
	interval time.Duration
	count    int

	producer  transport.Producer
	streaming bool
	paused    bool
	high, low int

	tls *TLSStart // StartTLS was called
}

var _ transport.Transport = (*Transport)(nil)

// New returns a connected transport on a loop of its own, with a clock of its
// own ([NewClock]). Its LocalAddr is 127.0.0.1:8000 and its RemoteAddr
// 192.0.2.1:12345 (TEST-NET-1, RFC 5737), both *net.TCPAddr made afresh for
// each transport. Any goroutine.
func New() *Transport {
	return NewWithLoop(NewLoop(NewClock()))
}

// NewWithLoop returns a connected transport on l, with the addresses [New]
// gives. Transports that share a loop share its clock: one Advance runs the
// timers of all of them. Any goroutine.
func NewWithLoop(l *Loop) *Transport {
	return &Transport{
		loop:   l,
		local:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000},
		remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 12345},
	}
}

// Write appends a copy of p to the recorded output and returns len(p), or 0
// and transport.ErrClosed once the transport is closed (see Disconnected) or
// its write side was shut with LoseWriteConnection. While a LoseConnection
// waits for a producer, writes are still taken. Any goroutine.
func (t *Transport) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.wclosed {
		return 0, transport.ErrClosed
	}
	t.out = append(t.out, p...)
	return len(p), nil
}

// WriteSequence appends each buffer to the recorded output, in order, or
// returns transport.ErrClosed when Write would. Any goroutine.
func (t *Transport) WriteSequence(bufs [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.wclosed {
		return transport.ErrClosed
	}
	for _, b := range bufs {
		t.out = append(t.out, b...)
	}
	return nil
}

// Value returns a copy of everything written since the transport was made or
// last cleared. It is never nil. Any goroutine.
func (t *Transport) Value() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte{}, t.out...)
}

// Clear forgets the recorded output. Any goroutine.
func (t *Transport) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out = t.out[:0]
}

// LoseConnection closes the transport cleanly, by the reactor's rules
// without the drain: it is disconnecting (Connected reports false and
// Disconnecting true) and, unless a registered producer holds the close up
// (transport.HoldsClose: any producer except a transport that is no longer
// connected, looking through transport.ProducerWrapper proxies), closed
// (Disconnected reports true). While a producer holds it up, writes are
// still taken and the transport closes when the producer unregisters.
// Calling it again (or StopProducing) while it waits checks the producer
// again, as a real transport does when a relay's other side went; after
// close it does nothing. The recorded output is kept. Any goroutine.
func (t *Transport) LoseConnection() {
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return
		}
		t.closing = true
		p := t.producer
		t.mu.Unlock()
		// Without t.mu: the producer may be this transport, whose
		// Connected takes it.
		holds := p != nil && transport.HoldsClose(p)
		t.mu.Lock()
		if t.producer == p {
			if !holds {
				t.closed = true
			}
			t.mu.Unlock()
			return
		}
		t.mu.Unlock() // the producer changed meanwhile: look again
	}
}

// CloseWithError records err (see CloseError) and closes the transport as
// LoseConnection does; a nil err is LoseConnection. Once the transport is
// closing, it does nothing (the first reason stays). Any goroutine.
func (t *Transport) CloseWithError(err error) {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return
	}
	t.closeErr = err
	t.mu.Unlock()
	t.LoseConnection()
}

// CloseError returns the error given to CloseWithError, or nil. Any
// goroutine.
func (t *Transport) CloseError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closeErr
}

// LoseWriteConnection shuts the write side, as a half-close does: from then
// on Write and WriteSequence fail with transport.ErrClosed, and WriteClosed
// reports true. Reading is not affected: the transport stays connected
// (Connected true, Disconnecting false) until LoseConnection or
// AbortConnection. It never calls the protocol's WriteConnectionLost (see
// the package documentation); a test that wants it calls it. The recorded
// output is kept. Any goroutine.
func (t *Transport) LoseWriteConnection() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wclosed = true
}

// WriteClosed reports whether LoseWriteConnection was called. Any goroutine.
func (t *Transport) WriteClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wclosed
}

// AbortConnection closes the transport at once, even with a producer
// registered, and makes Aborted report true. The recorded output is kept.
// Any goroutine.
func (t *Transport) AbortConnection() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	t.closed = true
	t.aborted = true
}

// Connected reports whether neither LoseConnection nor AbortConnection was
// called. LoseWriteConnection leaves the transport connected. Any goroutine.
func (t *Transport) Connected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closing
}

// Disconnecting reports whether LoseConnection or AbortConnection was called:
// the transport is closing (a producer holds a LoseConnection up) or closed.
// Any goroutine.
func (t *Transport) Disconnecting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// Disconnected reports whether the transport is closed: AbortConnection was
// called, or LoseConnection was and no producer holds it up (any more).
// Any goroutine.
func (t *Transport) Disconnected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Aborted reports whether AbortConnection was called. Any goroutine.
func (t *Transport) Aborted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.aborted
}

// LocalAddr returns this side's address: 127.0.0.1:8000 unless changed with
// SetLocalAddr. Any goroutine.
func (t *Transport) LocalAddr() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.local
}

// RemoteAddr returns the peer's address: 192.0.2.1:12345 unless changed with
// SetRemoteAddr. Any goroutine.
func (t *Transport) RemoteAddr() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.remote
}

// SetLocalAddr sets the address LocalAddr returns. Any goroutine.
func (t *Transport) SetLocalAddr(addr net.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.local = addr
}

// SetRemoteAddr sets the address RemoteAddr returns. Any goroutine.
func (t *Transport) SetRemoteAddr(addr net.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remote = addr
}

// SetTCPNoDelay records noDelay for NoDelay to report. It returns
// transport.ErrClosed once the transport is closed (see Disconnected).
// Any goroutine.
func (t *Transport) SetTCPNoDelay(noDelay bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return transport.ErrClosed
	}
	t.noDelay = noDelay
	return nil
}

// NoDelay reports the last value given to SetTCPNoDelay, false if none.
// Any goroutine.
func (t *Transport) NoDelay() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.noDelay
}

// SetTCPKeepAlive records its arguments for KeepAlive to report. It returns
// transport.ErrClosed once the transport is closed (see Disconnected).
// Any goroutine.
func (t *Transport) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return transport.ErrClosed
	}
	t.idle, t.interval, t.count = idle, interval, count
	return nil
}

// KeepAlive reports the last arguments given to SetTCPKeepAlive, zeros if
// none (an idle of 0 means keep-alive is off). Any goroutine.
func (t *Transport) KeepAlive() (idle, interval time.Duration, count int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.idle, t.interval, t.count
}

// Loop returns the transport's [*Loop]. Any goroutine.
func (t *Transport) Loop() transport.Loop { return t.loop }

// Clock returns the clock of the transport's loop, to advance it.
// Any goroutine.
func (t *Transport) Clock() *Clock { return t.loop.Clock() }
