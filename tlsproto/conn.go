package tlsproto

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// HandshakeListener is implemented by protocols that want to know when the
// TLS handshake completed: Twisted's IHandshakeListener. HandshakeCompleted
// runs once, on the connection's loop, after the handshake and after
// ConnectionMade (which, for a connection that started TLS with StartTLS,
// ran long before: this is then the only notice).
type HandshakeListener interface {
	// HandshakeCompleted is called once the handshake completed; the
	// transport's TLS state ([ConnectionState]) is final. Loop goroutine.
	HandshakeCompleted()
}

// Options are the TLS layer's own settings (crypto/tls's are in
// tls.Config). The zero value means the defaults.
type Options struct {
	// HandshakeTimeout bounds the handshake, from the start of TLS (the
	// connection's, or StartTLS) to its end, waiting in the Limiter's
	// queue included; 0 means DefaultHandshakeTimeout (10 s).
	HandshakeTimeout time.Duration
	// Limiter bounds the handshakes that run at once. nil means one
	// limiter of DefaultMaxHandshakes shared by every connection given a
	// nil Limiter.
	Limiter *Limiter
}

var (
	defaultLimiterOnce sync.Once
	defaultLimiter     *Limiter
)

func (o *Options) limiter() *Limiter {
	if o != nil && o.Limiter != nil {
		return o.Limiter
	}
	defaultLimiterOnce.Do(func() { defaultLimiter = NewLimiter(0) })
	return defaultLimiter
}

func (o *Options) timeout() time.Duration {
	if o != nil && o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// state of a Conn, on its loop.
type state uint8

const (
	stNew         state = iota
	stHandshaking       // TLS started, handshake not done
	stOpen              // handshake done
	stDone              // failed or connection lost
)

// Conn is the TLS layer of one connection: a protocol to the transport
// below (ciphertext), a transport to the protocol above (plaintext).
//
// Made with [NewServer] or [NewClient] it is a wrapper: give it to a
// transport as the connection's protocol, and the protocol it wraps gets the
// Conn as its transport once the handshake completed. Made with [Layer] it
// is the TLS of a transport that implements StartTLS.
//
// Its transport methods are safe from any goroutine; its protocol methods
// run on the connection's loop, called by the transport below.
type Conn struct {
	protocol.Base // as a wrapper: the transport below, set by MakeConnection

	cfg    *tls.Config
	server bool
	opts   *Options
	lim    *Limiter
	tc     *tls.Conn
	mem    memConn

	lower transport.Transport      // the transport that carries the ciphertext
	self  transport.Transport      // the protocol's transport: c, or the transport that layered c
	build func() protocol.Protocol // builds the protocol after the handshake, if inner is nil

	made atomic.Bool // inner's ConnectionMade ran (before StartTLS, or after the handshake)

	// Loop goroutine only.
	inner    protocol.Protocol
	st       state
	started  bool // the handshake goroutine started or waits in the Limiter
	pumping  bool
	hsPaused bool // the handshake paused the transport (too much early input)
	readEOF  bool // tls.Conn.Read returned io.EOF (close_notify) or failed
	timer    transport.DelayedCall
	hsErr    error

	queued bool // waits in lim's queue; guarded by lim.mu

	// Guarded by wmu.
	wmu        sync.Mutex
	open       bool   // handshake done: writes go to tc
	pending    []byte // plaintext written before the handshake completed
	wclosed    bool   // close_notify sent, or the connection is going: writes fail
	loseReq    bool   // LoseConnection called
	loseWReq   bool   // LoseWriteConnection called before the handshake completed
	producer   transport.Producer
	notifySent bool // close_notify written
}

var (
	_ transport.Transport          = (*Conn)(nil)
	_ protocol.Protocol            = (*Conn)(nil)
	_ protocol.HalfCloseable       = (*Conn)(nil)
	_ protocol.WriteBufferNotifier = (*Conn)(nil)
	_ protocol.ReadResumer         = (*Conn)(nil)
)

// NewServer returns the server side of TLS for p: a protocol to give to a
// transport (protocol.MakeConnection(c, t), or a factory's BuildProtocol).
// p is connected, with c as its transport, once the handshake completed.
// cfg must hold a certificate (Certificates or GetCertificate); it is used
// as crypto/tls uses it, and must not be modified afterwards. opts may be
// nil. Any goroutine.
func NewServer(p protocol.Protocol, cfg *tls.Config, opts *Options) *Conn {
	return newConn(p, nil, cfg, true, opts)
}

// NewClient returns the client side of TLS for p, as [NewServer] does for
// the server side. cfg needs ServerName (or InsecureSkipVerify). Any
// goroutine.
func NewClient(p protocol.Protocol, cfg *tls.Config, opts *Options) *Conn {
	return newConn(p, nil, cfg, false, opts)
}

// newBuilding is NewServer or NewClient with the protocol built by build
// once the handshake completed: a nil result closes the connection.
func newBuilding(build func() protocol.Protocol, cfg *tls.Config, serverSide bool, opts *Options) *Conn {
	return newConn(nil, build, cfg, serverSide, opts)
}

func newConn(p protocol.Protocol, build func() protocol.Protocol, cfg *tls.Config, serverSide bool, opts *Options) *Conn {
	c := &Conn{cfg: cfg, server: serverSide, opts: opts, inner: p, build: build}
	c.lim = opts.limiter()
	c.mem.init(c)
	if serverSide {
		c.tc = tls.Server(&c.mem, cfg)
	} else {
		c.tc = tls.Client(&c.mem, cfg)
	}
	return c
}

// Layer returns the TLS of a connection whose transport implements StartTLS
// with it: lower is the transport's raw side (what it does without TLS),
// self the transport as its users see it. From the call on, the transport
// passes Write, WriteSequence, LoseConnection, LoseWriteConnection,
// CloseWithError, RegisterProducer and UnregisterProducer to the Conn,
// and once on its loop makes the Conn its protocol: [Conn.Start] with the
// protocol it had, or [Conn.StartBuilding]. Any goroutine.
func Layer(lower, self transport.Transport, cfg *tls.Config, serverSide bool, opts *Options) *Conn {
	c := newConn(nil, nil, cfg, serverSide, opts)
	c.lower, c.self = lower, self
	return c
}

// Start starts TLS under p, which is connected already (StartTLS): the
// transport must deliver its events to c from now on. Loop goroutine.
func (c *Conn) Start(p protocol.Protocol) {
	c.inner = p
	c.made.Store(true)
	c.begin()
}

// StartBuilding starts TLS on a new connection whose protocol build makes
// once the handshake completed, connected to the layered transport (a nil
// protocol closes the connection). Loop goroutine.
func (c *Conn) StartBuilding(build func() protocol.Protocol) {
	c.build = build
	c.begin()
}

// Made reports whether the protocol above was connected: its ConnectionMade
// ran (after the handshake, or before StartTLS). Loop goroutine.
func (c *Conn) Made() bool { return c.made.Load() }

// Err returns why the handshake failed (matching [ErrHandshakeFailed]), or
// nil. Loop goroutine.
func (c *Conn) Err() error { return c.hsErr }

// Wrapped returns the protocol above, or nil before it is built. Loop
// goroutine.
func (c *Conn) Wrapped() protocol.Protocol { return c.inner }

// Unwrap returns the transport below, which carries the ciphertext. Any
// goroutine once connected.
func (c *Conn) Unwrap() transport.Transport { return c.lower }

// TLSConnectionState returns the connection's TLS state (version, cipher
// suite, ALPN protocol, the peer's certificates) and true once the
// handshake completed, else the zero state and false. [ConnectionState]
// finds it from any transport. Any goroutine.
func (c *Conn) TLSConnectionState() (tls.ConnectionState, bool) {
	c.wmu.Lock()
	open := c.open
	c.wmu.Unlock()
	if !open {
		return tls.ConnectionState{}, false
	}
	return c.tc.ConnectionState(), true
}

// ConnectionState returns the TLS state of the connection t is the
// transport of, and true; or false when it carries no TLS or its handshake
// has not completed. It looks through wrappers that have an
// Unwrap() transport.Transport method (policies.ProtocolWrapper). Any
// goroutine.
func ConnectionState(t transport.Transport) (tls.ConnectionState, bool) {
	for t != nil {
		if s, ok := t.(interface {
			TLSConnectionState() (tls.ConnectionState, bool)
		}); ok {
			return s.TLSConnectionState()
		}
		u, ok := t.(interface{ Unwrap() transport.Transport })
		if !ok {
			break
		}
		t = u.Unwrap()
	}
	return tls.ConnectionState{}, false
}

// ---- protocol side: events of the transport below (loop goroutine) ----

// ConnectionMade starts TLS on the transport below (as a wrapper). Loop
// goroutine.
func (c *Conn) ConnectionMade() {
	c.lower = c.Transport()
	c.self = c
	c.begin()
}

// begin starts the handshake's timer and, on a client, the handshake.
func (c *Conn) begin() {
	if c.st != stNew {
		return
	}
	c.st = stHandshaking
	d := c.opts.timeout()
	c.timer = c.lower.Loop().CallLater(d, func() {
		if c.st == stHandshaking {
			c.fail(fmt.Errorf("%w after %v", ErrHandshakeTimeout, d))
		}
	})
	if !c.server {
		c.startHandshake()
	}
}

// DataReceived takes ciphertext: during the handshake it is kept for the
// handshake's goroutine, after it decrypted and delivered. data is valid
// only until DataReceived returns. Loop goroutine.
func (c *Conn) DataReceived(data []byte) {
	switch c.st {
	case stHandshaking:
		c.mem.feed(data)
		if !c.started && c.mem.firstRecord() {
			c.startHandshake()
		}
		if !c.hsPaused && c.mem.buffered() > maxHandshakeInput && !c.lower.ReadPaused() {
			c.hsPaused = true
			c.lower.PauseProducing()
		}
	case stOpen:
		c.mem.lend(data)
		defer c.mem.keep()
		c.pump()
	}
}

// startHandshake runs the handshake on a goroutine of its own, now or when
// the Limiter has a place.
func (c *Conn) startHandshake() {
	c.started = true
	if c.lim.acquire(c) {
		go c.handshake()
	}
}

// handshake runs the handshake and tells the loop. Its goroutine.
func (c *Conn) handshake() {
	err := c.tc.Handshake()
	c.mem.stopBlocking()
	c.lim.release()
	_ = c.lower.Loop().CallSoon(func() { c.handshakeDone(err) })
}

// handshakeDone ends the handshake: on success the plaintext written so far
// is sent, the protocol is connected and told, and what arrived meanwhile
// delivered. Loop goroutine.
func (c *Conn) handshakeDone(err error) {
	if c.st != stHandshaking {
		return // failed or lost meanwhile
	}
	if err != nil {
		c.fail(fmt.Errorf("%w: %w", ErrHandshakeFailed, err))
		return
	}
	c.stopTimer()
	c.st = stOpen
	if c.hsPaused {
		c.hsPaused = false
		c.lower.ResumeProducing()
	}
	c.wmu.Lock()
	c.open = true
	if len(c.pending) > 0 {
		_, _ = c.writeLocked(c.pending)
		c.pending = nil
	}
	lose, loseW := c.loseReq, c.loseWReq
	c.wmu.Unlock()
	if !c.made.Load() {
		p := c.inner
		if p == nil {
			p = c.build()
		}
		if p == nil {
			c.LoseConnection() // the factory refused it
			return
		}
		c.inner = p
		c.made.Store(true)
		protocol.MakeConnection(p, c.self)
	}
	if c.st != stOpen {
		return // ConnectionMade closed it
	}
	if h, ok := c.inner.(HandshakeListener); ok {
		h.HandshakeCompleted()
	}
	switch {
	case lose:
		c.closeNotify(c.lower.LoseConnection)
	case loseW:
		c.closeNotify(c.lower.LoseWriteConnection)
	}
	c.pump()
}

// fail ends a handshake that failed: the transport is closed with err (what
// crypto/tls wrote, an alert, is flushed first). Loop goroutine.
func (c *Conn) fail(err error) {
	c.hsErr = err
	c.st = stDone
	c.stopTimer()
	c.lim.withdraw(c)
	c.mem.Close()
	c.wmu.Lock()
	c.wclosed, c.pending = true, nil
	c.wmu.Unlock()
	c.lower.CloseWithError(err)
}

func (c *Conn) stopTimer() {
	if c.timer != nil {
		_ = c.timer.Cancel()
		c.timer = nil
	}
}

// pump decrypts what was received and delivers it, until crypto/tls needs
// more bytes, the transport is paused or closing, or the input ended. Loop
// goroutine.
func (c *Conn) pump() {
	if c.pumping {
		return
	}
	c.pumping = true
	defer func() { c.pumping = false }()
	bp := plainPool.Get().(*[]byte)
	defer plainPool.Put(bp)
	buf := *bp
	for c.st == stOpen && !c.readEOF && c.lower.Connected() && !c.lower.ReadPaused() {
		n, err := c.tc.Read(buf)
		if n > 0 {
			c.inner.DataReceived(buf[:n])
		}
		switch {
		case err == nil:
		case err == errWouldBlock:
			return
		case err == io.EOF: // the peer's close_notify, or its FIN at a record boundary
			c.readEOF = true
			if hc, ok := c.inner.(protocol.HalfCloseable); ok {
				hc.ReadConnectionLost()
				return
			}
			c.LoseConnection()
			return
		default:
			c.readEOF = true
			c.wmu.Lock()
			c.wclosed = true // crypto/tls sent its alert; no close_notify after it
			c.wmu.Unlock()
			c.lower.CloseWithError(fmt.Errorf("%w: %w", ErrProtocol, err))
			return
		}
	}
}

// plainPool holds the buffers decrypted records are delivered from: one
// record's plaintext at most.
var plainPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// ConnectionLost passes the transport's reason on to the protocol, if it
// was connected, and ends a handshake in progress. Loop goroutine.
func (c *Conn) ConnectionLost(reason error) {
	if c.st == stHandshaking && c.hsErr == nil {
		c.hsErr = fmt.Errorf("%w: %w", ErrHandshakeFailed, reason)
	}
	c.st = stDone
	c.stopTimer()
	c.lim.withdraw(c)
	c.mem.Close()
	c.wmu.Lock()
	c.wclosed, c.pending, c.producer = true, nil, nil
	c.wmu.Unlock()
	if c.made.Load() {
		c.inner.ConnectionLost(reason)
	}
}

// ReadConnectionLost handles the transport's end of input (the peer's FIN):
// a handshake fails; after it, what is still buffered is delivered, then
// the end of input is handled as close_notify is. Loop goroutine.
func (c *Conn) ReadConnectionLost() {
	c.mem.setEOF()
	switch c.st {
	case stHandshaking:
		if !c.started {
			c.fail(fmt.Errorf("%w: %w", ErrHandshakeFailed, io.ErrUnexpectedEOF))
		} // else the handshake reads io.EOF and fails
	case stOpen:
		c.pump()
	}
}

// WriteConnectionLost passes the transport's notice that its FIN went out
// to the protocol, if it is a protocol.HalfCloseable. Loop goroutine.
func (c *Conn) WriteConnectionLost() {
	if hc, ok := c.inner.(protocol.HalfCloseable); ok && c.made.Load() && c.st != stDone {
		hc.WriteConnectionLost()
	}
}

// WriteBufferFull passes the transport's notice on to the protocol, if it
// is a protocol.WriteBufferNotifier. Loop goroutine.
func (c *Conn) WriteBufferFull() {
	if n, ok := c.inner.(protocol.WriteBufferNotifier); ok && c.made.Load() {
		n.WriteBufferFull()
	}
}

// WriteBufferDrained passes the transport's notice on to the protocol, if
// it is a protocol.WriteBufferNotifier. Loop goroutine.
func (c *Conn) WriteBufferDrained() {
	if n, ok := c.inner.(protocol.WriteBufferNotifier); ok && c.made.Load() {
		n.WriteBufferDrained()
	}
}

// ReadingResumed tells the protocol (a protocol.ReadResumer) that reading
// resumed, then delivers what crypto/tls and the Conn hold, before the
// transport reads more. Loop goroutine.
func (c *Conn) ReadingResumed() {
	if rr, ok := c.inner.(protocol.ReadResumer); ok && c.made.Load() && !c.lower.ReadPaused() {
		rr.ReadingResumed()
	}
	if c.st == stOpen {
		c.pump()
	}
}

// ---- transport side: what the protocol above asks (any goroutine) ----

// Write encrypts p and writes it to the transport below; before the
// handshake completed (after StartTLS), p is kept and sent encrypted right
// after it (at most 1 MiB; past it the connection is aborted and Write
// fails with an error matching transport.ErrWriteBufferOverflow). Errors
// as transport.Transport's Write. Any goroutine.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(len(p)); err != nil {
		return 0, err
	}
	if !c.open {
		c.pending = append(c.pending, p...)
		return len(p), nil
	}
	return c.writeLocked(p)
}

// WriteSequence writes bufs in order as one Write of their concatenation.
// Any goroutine.
func (c *Conn) WriteSequence(bufs [][]byte) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(n); err != nil {
		return err
	}
	if !c.open || n <= seqJoin {
		var joined []byte
		var bp *[]byte
		if c.open {
			bp = seqPool.Get().(*[]byte)
			joined = (*bp)[:0]
		} else {
			joined = c.pending
		}
		for _, b := range bufs {
			joined = append(joined, b...)
		}
		if !c.open {
			c.pending = joined
			return nil
		}
		_, err := c.writeLocked(joined)
		*bp = joined[:0]
		seqPool.Put(bp)
		return err
	}
	for _, b := range bufs {
		if _, err := c.writeLocked(b); err != nil {
			return err
		}
	}
	return nil
}

// seqJoin is the largest WriteSequence joined into one record.
const seqJoin = 16 << 10

var seqPool = sync.Pool{New: func() any { b := make([]byte, 0, seqJoin); return &b }}

// writableLocked says why n more bytes cannot be written, or nil. wmu held.
func (c *Conn) writableLocked(n int) error {
	if c.wclosed {
		return transport.ErrClosed
	}
	if err := c.mem.writeErr(); err != nil {
		return err
	}
	if !c.open && len(c.pending)+n > maxPendingWrite {
		c.wclosed = true
		c.lower.AbortConnection()
		return fmt.Errorf("%w: more than %d bytes written before the TLS handshake completed", transport.ErrWriteBufferOverflow, maxPendingWrite)
	}
	return nil
}

// writeLocked encrypts p to the transport. wmu held, handshake done.
func (c *Conn) writeLocked(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if _, err := c.tc.Write(p); err != nil {
		return 0, fmt.Errorf("%w: %w", transport.ErrClosed, err)
	}
	if err := c.mem.writeErr(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// closeNotify sends close_notify (once, unless writes are closed already),
// then runs then (the transport's close). Any goroutine.
func (c *Conn) closeNotify(then func()) {
	c.wmu.Lock()
	if !c.notifySent && !c.wclosed && c.open {
		c.notifySent = true
		_ = c.tc.CloseWrite()
	}
	c.wclosed = true
	c.wmu.Unlock()
	then()
}

// LoseConnection sends close_notify, then closes the transport cleanly
// (it flushes, then sends the FIN). During the handshake, a protocol that
// is connected (StartTLS) has its close wait for the handshake, so that
// what it wrote goes out; one that is not yet has nothing to send, and the
// transport closes at once. While a producer holds the close
// (transport.HoldsClose), writes stay open and close_notify waits until it
// unregisters. Calling it again does nothing. Any goroutine.
func (c *Conn) LoseConnection() {
	c.wmu.Lock()
	if c.loseReq {
		c.wmu.Unlock()
		return
	}
	c.loseReq = true
	open, holds := c.open, c.holdsLocked()
	c.wmu.Unlock()
	switch {
	case !open && c.made.Load():
		return // handshakeDone closes
	case !open || holds:
		c.lower.LoseConnection() // a producer holds it: UnregisterProducer sends close_notify
	default:
		c.closeNotify(c.lower.LoseConnection)
	}
}

// holdsLocked reports whether the registered producer holds a close up:
// any but the protocol's own transport (the Conn, or the transport that
// layered it: the bounded-echo idiom), looking through proxies, and a
// transport that is no longer connected (transport.HoldsClose). wmu held.
func (c *Conn) holdsLocked() bool {
	for p := c.producer; p != nil; {
		if p == transport.Producer(c) || p == transport.Producer(c.self) {
			return false
		}
		w, ok := p.(transport.ProducerWrapper)
		if !ok {
			break
		}
		p = w.WrappedProducer()
	}
	return c.producer != nil && transport.HoldsClose(c.producer)
}

// LoseWriteConnection sends close_notify, then the transport's FIN, and
// reading goes on (before the handshake completed: once it did). Any
// goroutine.
func (c *Conn) LoseWriteConnection() {
	c.wmu.Lock()
	if !c.open {
		c.loseWReq = true
		c.wmu.Unlock()
		return
	}
	c.wmu.Unlock()
	c.closeNotify(c.lower.LoseWriteConnection)
}

// CloseWithError sends close_notify, then closes the transport because of
// err (see transport.Transport); a nil err is LoseConnection. Any goroutine.
func (c *Conn) CloseWithError(err error) {
	if err == nil {
		c.LoseConnection()
		return
	}
	c.wmu.Lock()
	if c.loseReq {
		c.wmu.Unlock()
		return
	}
	c.loseReq = true
	c.wmu.Unlock()
	c.closeNotify(func() { c.lower.CloseWithError(err) })
}

// AbortConnection aborts the transport: no close_notify. Any goroutine.
func (c *Conn) AbortConnection() {
	c.wmu.Lock()
	c.wclosed = true
	c.wmu.Unlock()
	c.lower.AbortConnection()
}

// StartTLS returns transport.ErrTLSStarted: TLS is on. Any goroutine.
func (c *Conn) StartTLS(*tls.Config, bool) error { return transport.ErrTLSStarted }

// RegisterProducer registers p with the transport below (its watermarks
// count ciphertext), remembering it so that a LoseConnection it holds sends
// close_notify only when it unregisters. Any goroutine.
func (c *Conn) RegisterProducer(p transport.Producer, streaming bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.lower.RegisterProducer(p, streaming); err != nil {
		return err
	}
	c.producer = p
	return nil
}

// UnregisterProducer unregisters the producer; a LoseConnection it held
// sends close_notify first. Any goroutine.
func (c *Conn) UnregisterProducer() {
	c.wmu.Lock()
	had := c.producer != nil
	c.producer = nil
	lose := had && c.loseReq && c.open
	c.wmu.Unlock()
	if lose {
		c.closeNotify(func() {})
	}
	c.lower.UnregisterProducer()
}

// StopProducing closes the connection as LoseConnection does. Any goroutine.
func (c *Conn) StopProducing() {
	c.LoseConnection()
	c.lower.StopProducing()
}

// PauseProducing pauses reading from the transport below: the socket.
// Any goroutine.
func (c *Conn) PauseProducing() { c.lower.PauseProducing() }

// ResumeProducing resumes reading; what is decrypted already comes first.
// Any goroutine.
func (c *Conn) ResumeProducing() { c.lower.ResumeProducing() }

// ReadPaused reports whether reading is paused. Any goroutine.
func (c *Conn) ReadPaused() bool { return c.lower.ReadPaused() }

// RemoteAddr returns the transport's peer address. Any goroutine.
func (c *Conn) RemoteAddr() net.Addr { return c.lower.RemoteAddr() }

// LocalAddr returns the transport's own address. Any goroutine.
func (c *Conn) LocalAddr() net.Addr { return c.lower.LocalAddr() }

// SetTCPNoDelay sets the transport's TCP_NODELAY. Any goroutine.
func (c *Conn) SetTCPNoDelay(noDelay bool) error { return c.lower.SetTCPNoDelay(noDelay) }

// SetTCPKeepAlive sets the transport's keep-alive. Any goroutine.
func (c *Conn) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	return c.lower.SetTCPKeepAlive(idle, interval, count)
}

// Connected reports whether the transport is connected. Any goroutine.
func (c *Conn) Connected() bool { return c.lower.Connected() }

// Disconnecting reports whether the transport is closing or closed. Any
// goroutine.
func (c *Conn) Disconnecting() bool { return c.lower.Disconnecting() }

// SetWriteWatermarks sets the transport's watermarks, which count
// ciphertext. Any goroutine.
func (c *Conn) SetWriteWatermarks(high, low int) { c.lower.SetWriteWatermarks(high, low) }

// Loop returns the transport's loop. Any goroutine.
func (c *Conn) Loop() transport.Loop { return c.lower.Loop() }
