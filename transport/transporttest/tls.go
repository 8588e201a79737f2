package transporttest

import (
	"crypto/tls"

	"github.com/whirl-go/whirl/transport"
)

// TLSStart is what [Transport.StartTLS] recorded.
type TLSStart struct {
	// Config is the configuration given to StartTLS.
	Config *tls.Config
	// ServerSide is the side given to StartTLS.
	ServerSide bool
	// Offset is how many bytes of the recorded output (Value) were written
	// before the call: what the peer receives in clear.
	Offset int
}

// StartTLS records the call for [Transport.TLSStarted], as Twisted's
// StringTransport records writes, and returns nil; a second call returns
// transport.ErrTLSStarted, a call once the transport is closing
// transport.ErrClosed. The transport does not encrypt: what is written after
// the call is recorded as written, after the bytes written before it, so a
// test checks that a STARTTLS protocol asked for TLS at the right point of
// the exchange (TLSStart.Offset) and with the right configuration. To run a
// real TLS exchange in memory, connect a tlsproto wrapper (tlsproto.NewServer
// or NewClient) to a Transport instead. Any goroutine.
func (t *Transport) StartTLS(cfg *tls.Config, serverSide bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closing || t.closed:
		return transport.ErrClosed
	case t.tls != nil:
		return transport.ErrTLSStarted
	}
	t.tls = &TLSStart{Config: cfg, ServerSide: serverSide, Offset: len(t.out)}
	return nil
}

// TLSStarted returns what StartTLS recorded, or nil if it was not called.
// Any goroutine.
func (t *Transport) TLSStarted() *TLSStart {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tls
}
