package protocol

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// Forwarding is what a wrapper embeds in place of [Base]: a protocol that is
// also the transport of the protocol it wraps (policies.ProtocolWrapper,
// haproxy.ProtocolWrapper). Every [transport.Transport] method of Forwarding
// passes the call on to the real transport, Transport(), so that a wrapper
// writes only the methods whose behaviour it changes and the rest cannot
// drift apart from the real transport's. Its methods are safe on any
// goroutine once the connection is made, as the real transport's are.
type Forwarding struct{ Base }

var _ transport.Transport = (*Forwarding)(nil)

// Write writes p to the real transport. Any goroutine.
func (f *Forwarding) Write(p []byte) (int, error) { return f.Transport().Write(p) }

// WriteSequence writes bufs to the real transport. Any goroutine.
func (f *Forwarding) WriteSequence(bufs [][]byte) error { return f.Transport().WriteSequence(bufs) }

// LoseConnection closes the real transport cleanly. Any goroutine.
func (f *Forwarding) LoseConnection() { f.Transport().LoseConnection() }

// LoseWriteConnection closes the real transport's write side (a
// half-close). Any goroutine.
func (f *Forwarding) LoseWriteConnection() { f.Transport().LoseWriteConnection() }

// CloseWithError closes the real transport because of err, a peer's fault.
// Any goroutine.
func (f *Forwarding) CloseWithError(err error) { f.Transport().CloseWithError(err) }

// AbortConnection aborts the real transport. Any goroutine.
func (f *Forwarding) AbortConnection() { f.Transport().AbortConnection() }

// RemoteAddr returns the real transport's peer address. Any goroutine.
func (f *Forwarding) RemoteAddr() net.Addr { return f.Transport().RemoteAddr() }

// LocalAddr returns the real transport's own address. Any goroutine.
func (f *Forwarding) LocalAddr() net.Addr { return f.Transport().LocalAddr() }

// SetTCPNoDelay sets the real transport's TCP_NODELAY. Any goroutine.
func (f *Forwarding) SetTCPNoDelay(noDelay bool) error { return f.Transport().SetTCPNoDelay(noDelay) }

// SetTCPKeepAlive sets the real transport's keep-alive. Any goroutine.
func (f *Forwarding) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	return f.Transport().SetTCPKeepAlive(idle, interval, count)
}

// Connected reports whether the real transport is connected. Any goroutine.
func (f *Forwarding) Connected() bool { return f.Transport().Connected() }

// Disconnecting reports whether the real transport is closing or closed.
// Any goroutine.
func (f *Forwarding) Disconnecting() bool { return f.Transport().Disconnecting() }

// RegisterProducer registers p with the real transport. Any goroutine.
func (f *Forwarding) RegisterProducer(p transport.Producer, streaming bool) error {
	return f.Transport().RegisterProducer(p, streaming)
}

// UnregisterProducer unregisters the producer from the real transport. Any
// goroutine.
func (f *Forwarding) UnregisterProducer() { f.Transport().UnregisterProducer() }

// PauseProducing pauses reading on the real transport. Any goroutine.
func (f *Forwarding) PauseProducing() { f.Transport().PauseProducing() }

// ReadPaused reports whether reading is paused on the real transport. Any
// goroutine.
func (f *Forwarding) ReadPaused() bool { return f.Transport().ReadPaused() }

// ResumeProducing resumes reading on the real transport. Any goroutine.
func (f *Forwarding) ResumeProducing() { f.Transport().ResumeProducing() }

// StopProducing closes the real transport, as its StopProducing does. Any
// goroutine.
func (f *Forwarding) StopProducing() { f.Transport().StopProducing() }

// SetWriteWatermarks sets the real transport's watermarks. Any goroutine.
func (f *Forwarding) SetWriteWatermarks(high, low int) { f.Transport().SetWriteWatermarks(high, low) }

// StartTLS starts TLS on the real transport: the wrapper and the protocol
// it wraps see plaintext from then on. Any goroutine.
func (f *Forwarding) StartTLS(cfg *tls.Config, serverSide bool) error {
	return f.Transport().StartTLS(cfg, serverSide)
}

// Loop returns the real transport's loop. Any goroutine.
func (f *Forwarding) Loop() transport.Loop { return f.Transport().Loop() }
