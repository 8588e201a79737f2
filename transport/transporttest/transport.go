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
// It closes at once: after LoseConnection or AbortConnection it is
// disconnecting and disconnected, and writes and socket options fail with
// transport.ErrClosed.
//
// A Transport must be made with [New] or [NewWithLoop]. Every method is safe
// to call from any goroutine.
type Transport struct {
	loop *Loop

	mu       sync.Mutex
	out      []byte
	local    net.Addr
	remote   net.Addr
	closing  bool
	aborted  bool
	noDelay  bool
	idle     time.Duration
	interval time.Duration
	count    int

	producer  transport.Producer
	streaming bool
	paused    bool
	high, low int
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
// and transport.ErrClosed after LoseConnection or AbortConnection.
// Any goroutine.
func (t *Transport) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return 0, transport.ErrClosed
	}
	t.out = append(t.out, p...)
	return len(p), nil
}

// WriteSequence appends each buffer to the recorded output, in order, or
// returns transport.ErrClosed after LoseConnection or AbortConnection.
// Any goroutine.
func (t *Transport) WriteSequence(bufs [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
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

// LoseConnection closes the transport: Connected reports false and
// Disconnecting and Disconnected true. The recorded output is kept. Calling it
// again, or after AbortConnection, does nothing. Any goroutine.
func (t *Transport) LoseConnection() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
}

// AbortConnection closes the transport as LoseConnection does, and makes
// Aborted report true. The recorded output is kept. Any goroutine.
func (t *Transport) AbortConnection() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	t.aborted = true
}

// Connected reports whether neither LoseConnection nor AbortConnection was
// called. Any goroutine.
func (t *Transport) Connected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closing
}

// Disconnecting reports whether LoseConnection or AbortConnection was called.
// Any goroutine.
func (t *Transport) Disconnecting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// Disconnected reports whether the transport is closed. This transport closes
// at once, so it is the same as Disconnecting. Any goroutine.
func (t *Transport) Disconnected() bool {
	return t.Disconnecting()
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
// transport.ErrClosed after LoseConnection or AbortConnection. Any goroutine.
func (t *Transport) SetTCPNoDelay(noDelay bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
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
// transport.ErrClosed after LoseConnection or AbortConnection. Any goroutine.
func (t *Transport) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
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
