package transporttest

import "github.com/whirl-go/whirl/transport"

// RegisterProducer records p as the producer, as Twisted's StringTransport
// does: it never pauses, resumes or stops it by itself (a test does, through
// [Transport.Producer]). While it is registered, a LoseConnection waits for
// it if transport.HoldsClose(p) (see [Transport.LoseConnection]). It returns
// transport.ErrProducerRegistered if one is registered, transport.ErrClosed
// once the transport is closed or its write side shut. Any goroutine.
func (t *Transport) RegisterProducer(p transport.Producer, streaming bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.wclosed {
		return transport.ErrClosed
	}
	if t.producer != nil {
		return transport.ErrProducerRegistered
	}
	t.producer, t.streaming = p, streaming
	return nil
}

// UnregisterProducer forgets the producer. If a LoseConnection was waiting
// for it, the transport closes now. Any goroutine.
func (t *Transport) UnregisterProducer() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.producer = nil
	if t.closing {
		t.closed = true
	}
}

// Producer returns the registered producer (nil if none) and whether it was
// registered as streaming. Any goroutine.
func (t *Transport) Producer() (p transport.Producer, streaming bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.producer, t.streaming
}

// PauseProducing records that delivery is paused; see [Transport.Paused].
// Any goroutine.
func (t *Transport) PauseProducing() {
	t.mu.Lock()
	t.paused = true
	t.mu.Unlock()
}

// ResumeProducing records that delivery is resumed. Unlike the reactor's
// transport, it does not call the protocol's ReadingResumed
// (protocol.ReadResumer): it does not know the protocol; a test that wants
// the call makes it. Any goroutine.
func (t *Transport) ResumeProducing() {
	t.mu.Lock()
	t.paused = false
	t.mu.Unlock()
}

// Paused reports whether PauseProducing was called without a
// ResumeProducing after it. The in-memory transport delivers nothing by
// itself, so a test that feeds DataReceived checks this to honour a pause.
// Any goroutine.
func (t *Transport) Paused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused
}

// ReadPaused is Paused, for transport.Transport. Any goroutine.
func (t *Transport) ReadPaused() bool { return t.Paused() }

// StopProducing loses the connection, as a real transport does: it is
// LoseConnection. Any goroutine.
func (t *Transport) StopProducing() { t.LoseConnection() }

// SetWriteWatermarks records the watermarks (0 keeps a value); see
// [Transport.WriteWatermarks]. Any goroutine.
func (t *Transport) SetWriteWatermarks(high, low int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if high > 0 {
		t.high = high
	}
	if low > 0 {
		t.low = low
	}
}

// WriteWatermarks returns the watermarks set with SetWriteWatermarks (0 if
// never set). Any goroutine.
func (t *Transport) WriteWatermarks() (high, low int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.high, t.low
}
