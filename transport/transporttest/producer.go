package transporttest

import "github.com/whirl-go/whirl/transport"

// RegisterProducer records p as the producer, as Twisted's StringTransport
// does: it never pauses or resumes it by itself (a test does, through
// [Transport.Producer]). It returns transport.ErrProducerRegistered if one is
// registered, transport.ErrClosed after close. Any goroutine.
func (t *Transport) RegisterProducer(p transport.Producer, streaming bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return transport.ErrClosed
	}
	if t.producer != nil {
		return transport.ErrProducerRegistered
	}
	t.producer, t.streaming = p, streaming
	return nil
}

// UnregisterProducer forgets the producer. Any goroutine.
func (t *Transport) UnregisterProducer() {
	t.mu.Lock()
	t.producer = nil
	t.mu.Unlock()
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

// ResumeProducing records that delivery is resumed. Any goroutine.
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

// StopProducing loses the connection, as a real transport does. Any goroutine.
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
