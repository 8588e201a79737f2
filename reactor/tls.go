package reactor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
)

// tlsSide is what a TLS port or connector gives its connections.
type tlsSide struct {
	cfg    *tls.Config
	server bool
}

func withTLS(s *tlsSide) Option { return func(c *config) { c.tls = s } }

// WithTLSHandshakeTimeout bounds each TLS handshake, from the start of TLS
// (the connection's, or StartTLS) to its end: a connection whose handshake
// takes longer is closed with a reason matching tlsproto.ErrHandshakeTimeout.
// 0 (the default) means tlsproto.DefaultHandshakeTimeout, 10 s. It may be
// given to one port or connector. Any goroutine.
func WithTLSHandshakeTimeout(d time.Duration) Option {
	return func(c *config) { c.tlsTimeout = d }
}

// WithMaxTLSHandshakes bounds the TLS handshakes that run at once over the
// whole reactor (each runs on a goroutine of its own for its duration); the
// others wait, without a goroutine, for a place, within their timeout. 0
// (the default) means tlsproto.DefaultMaxHandshakes (4096). It belongs to
// the reactor. Any goroutine.
func WithMaxTLSHandshakes(n int) Option {
	return func(c *config) { c.tlsMaxHandshakes = n; c.reactorOnly = "WithMaxTLSHandshakes" }
}

// ListenTLS is ListenTCP with TLS (Twisted's listenSSL): each connection's
// handshake runs first, with cfg (which must hold a certificate:
// Certificates, GetCertificate or GetConfigForClient), then f builds its
// protocol, whose ConnectionMade runs after the handshake. A connection
// whose handshake fails (or times out: WithTLSHandshakeTimeout) never
// reaches f. The protocol sees plaintext; its transport is the connection,
// whose LoseConnection sends close_notify and whose flow control counts
// ciphertext; tlsproto.ConnectionState gives the TLS state. cfg must not be
// modified afterwards. Any goroutine.
func (r *Reactor) ListenTLS(addr string, f factory.Factory, cfg *tls.Config, opts ...Option) (*Port, error) {
	if err := checkServerTLS(cfg); err != nil {
		return nil, err
	}
	opts = append(opts[:len(opts):len(opts)], withTLS(&tlsSide{cfg: cfg, server: true}))
	return r.ListenTCP(addr, f, opts...)
}

// checkServerTLS refuses a server configuration without a certificate.
func checkServerTLS(cfg *tls.Config) error {
	switch {
	case cfg == nil:
		return errors.New("reactor: TLS with a nil tls.Config")
	case len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil:
		return errors.New("reactor: TLS server configuration without a certificate")
	}
	return nil
}

// ConnectTLS is ConnectTCP with TLS as the client (Twisted's connectSSL):
// the handshake runs first, with cfg, then cf builds the protocol, whose
// ConnectionMade runs after the handshake. Without cfg.ServerName (and
// without InsecureSkipVerify), the host of addr is the name checked in the
// server's certificate. A handshake that fails is an attempt that failed:
// cf gets ClientConnectionFailed with a reason matching
// transport.ErrConnectFailed and tlsproto.ErrHandshakeFailed. cfg must not
// be modified afterwards. Any goroutine.
func (r *Reactor) ConnectTLS(ctx context.Context, addr string, cf factory.ClientFactory, cfg *tls.Config, opts ...Option) (*Connector, error) {
	if cfg == nil {
		return nil, errors.New("reactor: TLS with a nil tls.Config")
	}
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("reactor: ConnectTLS %q: %w", addr, err)
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	opts = append(opts[:len(opts):len(opts)], withTLS(&tlsSide{cfg: cfg, server: false}))
	return r.ConnectTCP(ctx, addr, cf, opts...)
}

// tlsOptions are the TLS layer's settings for connections configured by cfg.
func (r *Reactor) tlsOptions(cfg *config) *tlsproto.Options {
	return &tlsproto.Options{HandshakeTimeout: cfg.tlsTimeout, Limiter: r.tlsLim}
}

// layer returns the connection's TLS, or nil. Any goroutine.
func (c *conn) layer() *tlsproto.Conn {
	if x := c.x.Load(); x != nil {
		return x.tls.Load()
	}
	return nil
}

// openTLS puts TLS on a new connection of a TLS port or connector and
// returns it, or returns nil for a connection without TLS. Loop goroutine.
func (c *conn) openTLS() *tlsproto.Conn {
	side := c.p.cfg.tls
	if side == nil {
		return nil
	}
	l := tlsproto.Layer((*rawConn)(c), c, side.cfg, side.server, c.r().tlsOptions(c.p.cfg))
	c.ext().tls.Store(l)
	return l
}

// buildProtocol asks the factory for the protocol of a TLS connection whose
// handshake completed. Loop goroutine.
func (c *conn) buildProtocol() protocol.Protocol {
	p := c.p.f.BuildProtocol(c.remote)
	if p == nil {
		c.r().log.Debug().Stringer("peer", c.remote).Msg("factory refused connection")
	}
	return p
}

// StartTLS switches the connection to TLS (see transport.Transport). On
// the loop the layer becomes the protocol at once; from elsewhere, writes
// go through it at once and the loop makes it the protocol before it
// delivers more data. Any goroutine.
func (c *conn) StartTLS(cfg *tls.Config, serverSide bool) error {
	if cfg == nil {
		return errors.New("reactor: StartTLS with a nil tls.Config")
	}
	if serverSide {
		if err := checkServerTLS(cfg); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.mf&(mGone|mLosing|mWriteClosed) != 0 || c.state.Load() != stateOpen {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	x := c.ext()
	if x.tls.Load() != nil {
		c.mu.Unlock()
		return transport.ErrTLSStarted
	}
	x.tls.Store(tlsproto.Layer((*rawConn)(c), c, cfg, serverSide, c.r().tlsOptions(c.p.cfg)))
	x.tlsPending.Store(true)
	c.mu.Unlock()
	if c.l.onLoop() {
		c.installTLS()
		return nil
	}
	_ = c.l.submit(func() { c.guard("StartTLS", c.installTLS) })
	return nil
}

// installTLS makes the layer StartTLS made the connection's protocol, the
// protocol it had above it. Loop goroutine.
func (c *conn) installTLS() {
	x := c.x.Load()
	if x == nil || !x.tlsPending.Swap(false) || c.lf&fClosed != 0 || c.proto == nil {
		return
	}
	l := x.tls.Load()
	p := c.proto
	c.proto = l
	l.Start(p)
}

// TLSConnectionState returns the TLS state once the handshake completed
// (see tlsproto.ConnectionState). Any goroutine.
func (c *conn) TLSConnectionState() (tls.ConnectionState, bool) {
	if l := c.layer(); l != nil {
		return l.TLSConnectionState()
	}
	return tls.ConnectionState{}, false
}

// rawConn is a connection as its TLS layer sees it: the transport without
// TLS, which carries the ciphertext. It is the conn under another method
// set.
type rawConn conn

var _ transport.Transport = (*rawConn)(nil)

func (r *rawConn) c() *conn { return (*conn)(r) }

// Write writes ciphertext. Any goroutine.
func (r *rawConn) Write(p []byte) (int, error) { return r.c().writeRaw(p) }

// WriteSequence writes ciphertext. Any goroutine.
func (r *rawConn) WriteSequence(bufs [][]byte) error { return r.c().writeSequenceRaw(bufs) }

// LoseConnection flushes, sends the FIN and closes. Any goroutine.
func (r *rawConn) LoseConnection() { r.c().loseRaw() }

// LoseWriteConnection flushes and sends the FIN. Any goroutine.
func (r *rawConn) LoseWriteConnection() { r.c().loseWriteRaw() }

// CloseWithError closes because of err. Any goroutine.
func (r *rawConn) CloseWithError(err error) { r.c().closeWithErrorRaw(err) }

// AbortConnection aborts. Any goroutine.
func (r *rawConn) AbortConnection() { r.c().AbortConnection() }

// RemoteAddr returns the peer's address. Any goroutine.
func (r *rawConn) RemoteAddr() net.Addr { return r.c().RemoteAddr() }

// LocalAddr returns the local address. Any goroutine.
func (r *rawConn) LocalAddr() net.Addr { return r.c().LocalAddr() }

// SetTCPNoDelay sets TCP_NODELAY. Any goroutine.
func (r *rawConn) SetTCPNoDelay(noDelay bool) error { return r.c().SetTCPNoDelay(noDelay) }

// SetTCPKeepAlive sets keep-alive. Any goroutine.
func (r *rawConn) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	return r.c().SetTCPKeepAlive(idle, interval, count)
}

// Connected reports whether the connection is open. Any goroutine.
func (r *rawConn) Connected() bool { return r.c().Connected() }

// Disconnecting reports whether it is closing or closed. Any goroutine.
func (r *rawConn) Disconnecting() bool { return r.c().Disconnecting() }

// RegisterProducer registers the producer. Any goroutine.
func (r *rawConn) RegisterProducer(p transport.Producer, streaming bool) error {
	return r.c().registerRaw(p, streaming)
}

// UnregisterProducer removes it. Any goroutine.
func (r *rawConn) UnregisterProducer() { r.c().unregisterRaw() }

// PauseProducing pauses reading. Any goroutine.
func (r *rawConn) PauseProducing() { r.c().PauseProducing() }

// ReadPaused reports whether reading is paused. Any goroutine.
func (r *rawConn) ReadPaused() bool { return r.c().ReadPaused() }

// ResumeProducing resumes reading. Any goroutine.
func (r *rawConn) ResumeProducing() { r.c().ResumeProducing() }

// StopProducing closes without close_notify (the layer sent it). Any
// goroutine.
func (r *rawConn) StopProducing() {
	r.c().loseRaw()
	r.c().recheckClose()
}

// SetWriteWatermarks sets the watermarks. Any goroutine.
func (r *rawConn) SetWriteWatermarks(high, low int) { r.c().SetWriteWatermarks(high, low) }

// StartTLS returns transport.ErrTLSStarted. Any goroutine.
func (r *rawConn) StartTLS(*tls.Config, bool) error { return transport.ErrTLSStarted }

// Loop returns the connection's loop. Any goroutine.
func (r *rawConn) Loop() transport.Loop { return r.c().Loop() }
