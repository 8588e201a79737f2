package reactor

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/socket"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
)

const (
	stateNew int32 = iota // accepted, not yet opened on its loop
	stateOpen
	stateDisconnecting
	stateClosed
)

// Actions requested from any goroutine, carried out by service on the loop.
const (
	actLose      uint8 = 1 << iota // LoseConnection
	actAbort                       // AbortConnection
	actOverflow                    // a write passed the hard cap
	actRead                        // PauseProducing/ResumeProducing: reconcile reading
	actLoseWrite                   // LoseWriteConnection
)

// conn is one connection: whirl's Transport over a non-blocking socket
// registered with its loop's poller.
//
// Every idle connection pays for this struct, so it holds only what each
// connection uses (128 bytes); what only some need (a producer, its own
// watermarks, the stall watch, an idle or linger timer, a close reason) is in
// connExt, allocated the first time it is needed.
type conn struct {
	l      *loop
	p      *Port // the listening port: its factory and address
	remote net.Addr
	local  net.Addr // guarded by mu; nil until asked for on a wildcard port

	proto protocol.Protocol // Loop goroutine only.

	queued     atomic.Int64 // bytes the kernel refused, held in sending
	state      atomic.Int32
	fd         int32       // the socket; valid until mGone
	readPaused atomic.Bool // what PauseProducing/ResumeProducing asked for
	acts       uint8       // requested actions (act*); guarded by mu
	mf         uint8       // m* flags; guarded by mu
	lf         uint16      // f* flags; loop goroutine only

	mu   sync.Mutex
	outp *[]byte // written, not yet flushed; from outPool; guarded by mu

	// Loop goroutine only: output the kernel refused, from sending[off:].
	sending *[]byte
	off     int32

	// resumed is set by a ResumeProducing that lifted a pause; the loop
	// clears it and tells the protocol (protocol.ReadResumer).
	resumed atomic.Bool

	x atomic.Pointer[connExt]
}

// Flags guarded by conn.mu (conn.mf).
const (
	mFlushPending uint8 = 1 << iota
	mWriteClosed
	mLosing
	mGone // closed: the descriptor may already belong to someone else
	mStreaming
	mSelfProducer // the transport is its own producer (connExt.producer is nil)
	mProdChanged  // Register/UnregisterProducer ran since the loop last looked
	mWPaused      // a writer paused the producer; the loop takes it over
)

// Flags of the loop goroutine (conn.lf).
const (
	fDraining      uint16 = 1 << iota // LoseConnection: close once output is gone
	fProdSelf                         // the loop's producer is the transport itself
	fProdStreaming                    //
	fProdPaused                       // we paused the streaming producer
	fFull                             // output passed the high watermark and has not drained below the low one
	fRegR                             // the poller reports read events
	fRegW                             // the poller reports write events
	fLost                             // the close reason is ErrConnectionDone unless connExt says otherwise
	fReadEOF                          // the peer's FIN arrived
	fShutWrPending                    // LoseWriteConnection: FIN once output is gone
	fWriteShut                        // our FIN was sent
	fLingering                        // closing: FIN sent, reading until the peer's
	fClosed                           // the descriptor is closed
	fSlow                             // in the loop's slow list
	fEOFClose                         // closing on the peer's FIN: producers neither hold nor feed it
)

func (c *conn) mflag(f uint8) bool  { return c.mf&f != 0 }
func (c *conn) lflag(f uint16) bool { return c.lf&f != 0 }

func (c *conn) setM(f uint8, on bool) {
	if on {
		c.mf |= f
	} else {
		c.mf &^= f
	}
}

func (c *conn) setL(f uint16, on bool) {
	if on {
		c.lf |= f
	} else {
		c.lf &^= f
	}
}

// connExt is the state only some connections need (see conn). A transport
// registered as its own producer (the bounded-echo idiom) needs none: flags
// in conn record it.
type connExt struct {
	// Guarded by conn.mu.
	producer    transport.Producer // unless the transport is its own
	producerGen uint64             // bumped by each Register/UnregisterProducer
	wPausing    bool               // a writer is pausing the producer (see finishWriteLocked)

	high, low atomic.Int64 // watermarks; 0 means the reactor's

	// Loop goroutine only.
	prod        transport.Producer // the producer as the loop knows it, unless fProdSelf
	closeReason error
	loseReason  error
	protoErr    bool      // loseReason came from CloseWithError; guarded by conn.mu
	since       time.Time // last progress of output the kernel refused
	slowIdx     int32     // index in the loop's slow list
	lastRead    time.Time
	idleTimer   *time.Timer
	lingerTimer *time.Timer
	lingerStart time.Time
	lingerDelay time.Duration

	// TLS, once on (StartTLS, or a TLS port or connector): the connection's
	// writes and closes go to it. tlsPending: the loop has yet to make it
	// the protocol (installTLS).
	tls        atomic.Pointer[tlsproto.Conn]
	tlsPending atomic.Bool
}

// ext returns c's connExt, allocating it on first use. Any goroutine.
func (c *conn) ext() *connExt {
	if x := c.x.Load(); x != nil {
		return x
	}
	x := new(connExt)
	if c.x.CompareAndSwap(nil, x) {
		return x
	}
	return c.x.Load()
}

var _ transport.Transport = (*conn)(nil)

func newConn(l *loop, p *Port, fd int, remote net.Addr) *conn {
	c := &conn{l: l, p: p, remote: remote, fd: int32(fd)}
	if !p.wildcard {
		c.local = p.addr
	}
	return c
}

// r returns the connection's reactor.
func (c *conn) r() *Reactor { return c.l.r }

// open builds the protocol and makes the connection. Loop goroutine, inside
// a dispatch.
func (c *conn) open() {
	r := c.r()
	c.state.Store(stateOpen)
	var p protocol.Protocol
	layer := c.openTLS() // a TLS port's or connector's: the protocol is built after the handshake
	if layer != nil {
		p = layer
	} else if !c.guard("BuildProtocol", func() { p = c.p.f.BuildProtocol(c.remote) }) {
		return
	}
	if p == nil {
		c.l.st.refused.Add(1)
		r.log.Debug().Stringer("peer", c.remote).Msg("factory refused connection")
		c.closeNow(transport.Aborted(errRefused), false)
		return
	}
	c.proto = p
	if d := c.p.cfg.idleTimeout; d > 0 {
		x := c.ext()
		x.lastRead = time.Now()
		x.idleTimer = time.AfterFunc(d, func() { _ = c.l.submit(c.checkIdle) })
	}
	if layer != nil {
		c.guard("StartTLS", func() { layer.StartBuilding(c.buildProtocol) })
		return
	}
	c.guard("ConnectionMade", func() { protocol.MakeConnection(p, c) })
}

// setCloseReason records why the connection closes, unless a reason is
// already recorded. Loop goroutine.
func (c *conn) setCloseReason(err error) {
	if c.lflag(fLost) {
		return
	}
	if x := c.x.Load(); x != nil && x.closeReason != nil {
		return
	}
	if err == transport.ErrConnectionDone {
		c.lf |= fLost // the common case costs no connExt
		return
	}
	c.ext().closeReason = err
}

// closeReason returns the reason recorded by setCloseReason, or nil.
func (c *conn) closeReason() error {
	if x := c.x.Load(); x != nil && x.closeReason != nil {
		return x.closeReason
	}
	if c.lflag(fLost) {
		return transport.ErrConnectionDone
	}
	return nil
}

// notifier returns the protocol as a WriteBufferNotifier, if it is one.
func (c *conn) notifier() protocol.WriteBufferNotifier {
	n, _ := c.proto.(protocol.WriteBufferNotifier)
	return n
}

// guard runs fn, turning a panic into an abort. It reports whether fn returned.
func (c *conn) guard(what string, fn func()) (ok bool) {
	defer c.recoverPanic(what)
	fn()
	return true
}

func (c *conn) recoverPanic(what string) {
	if v := recover(); v != nil {
		pe := newPanicError(v)
		c.r().logPanic(what, pe, c.remote)
		c.abortNow(transport.Aborted(pe))
	}
}

// closeNow closes the socket (with a reset if rst) and ends the connection:
// the producer is stopped and ConnectionLost gets the recorded reason, or
// reason if none was recorded. Calling it again does nothing. Loop goroutine.
func (c *conn) closeNow(reason error, rst bool) {
	if c.lflag(fClosed) {
		return
	}
	c.lf |= fClosed
	if reason != nil {
		c.setCloseReason(reason)
	}
	if reason = c.closeReason(); reason == nil {
		reason = transport.ErrConnectionDone
	}
	r := c.r()
	c.mu.Lock()
	c.mf |= mGone | mWriteClosed
	c.mf &^= mSelfProducer
	c.takeLentLocked() // dropped with the rest of the output
	out := c.outp
	c.outp = nil
	x := c.x.Load()
	protoErr := false
	if x != nil {
		x.producer = nil
		protoErr = x.protoErr
	}
	c.mu.Unlock()
	c.l.st.closed[closeClass(reason, protoErr)].Add(1)
	c.state.Store(stateClosed)
	if c.readPaused.Swap(false) {
		c.l.st.paused.Add(-1) // a PauseProducing racing this close counts itself out
	}
	// Out of the table first: the descriptor number may be reused at once.
	c.l.removeConn(c)
	fd := int(c.fd)
	if rst {
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	_ = unix.Close(fd) // also leaves the poller: whirl holds no duplicate of it
	putOut(out)
	putOut(c.sending)
	c.sending, c.off = nil, 0
	c.setQueued(0)
	c.l.nconns.Add(-1)
	if x != nil {
		if x.idleTimer != nil {
			x.idleTimer.Stop()
		}
		if x.lingerTimer != nil {
			x.lingerTimer.Stop()
		}
		if p := x.prod; p != nil {
			x.prod = nil
			r.safeCall("StopProducing", p.StopProducing)
		}
	}
	c.lf &^= fProdSelf
	made := c.proto != nil
	cnReason := reason
	if p := c.proto; p != nil {
		c.proto = nil
		r.safeCall("ConnectionLost", func() { p.ConnectionLost(reason) })
		if l, ok := p.(*tlsproto.Conn); ok && !l.Made() {
			made = false // a TLS handshake that failed: the factory never built
			if err := l.Err(); err != nil {
				cnReason = err
			}
		}
	}
	if cn := c.p.cn; cn != nil {
		cn.connLost(c, cnReason, made)
	}
	r.connDone()
	if r.log.Debug().Enabled() {
		r.log.Debug().Stringer("peer", c.remote).AnErr("reason", reason).Msg("connection closed")
	}
}

// request records actions (or just pending output) with c.mu held, unlocks,
// and makes sure the loop services c soon.
func (c *conn) requestLocked(acts uint8) {
	c.acts |= acts
	kick := !c.mflag(mFlushPending)
	c.mf |= mFlushPending
	c.mu.Unlock()
	if kick {
		c.l.kick(c)
	}
}

// pendingLocked returns the bytes written and not yet flushed. c.mu held.
func (c *conn) pendingLocked() int {
	n := len(c.lentLocked())
	if c.outp != nil {
		n += len(*c.outp)
	}
	return n
}

// Write copies p into the output buffer (once TLS is on, encrypted), or
// lends it: a slice of the loop's read buffer written from DataReceived is
// held as it is until the loop flushes it (lend.go). Any goroutine.
func (c *conn) Write(p []byte) (int, error) {
	if l := c.layer(); l != nil {
		return l.Write(p)
	}
	return c.writeRaw(p)
}

// writeRaw is Write without TLS. Any goroutine.
func (c *conn) writeRaw(p []byte) (int, error) {
	c.mu.Lock()
	if c.mflag(mWriteClosed) {
		c.mu.Unlock()
		return 0, transport.ErrClosed
	}
	if int64(c.pendingLocked()+len(p))+c.queued.Load() > int64(c.p.cfg.maxWrite) {
		c.mf |= mWriteClosed
		c.requestLocked(actOverflow)
		return 0, c.overflowError()
	}
	if c.tryLendLocked(p) {
		c.finishWriteLocked()
		return len(p), nil
	}
	c.unlendLocked()
	out := c.grabOut()
	*out = append(*out, p...)
	c.finishWriteLocked()
	return len(p), nil
}

// WriteSequence writes bufs in order as one write. Any goroutine.
func (c *conn) WriteSequence(bufs [][]byte) error {
	if l := c.layer(); l != nil {
		return l.WriteSequence(bufs)
	}
	return c.writeSequenceRaw(bufs)
}

// writeSequenceRaw is WriteSequence without TLS. Any goroutine.
func (c *conn) writeSequenceRaw(bufs [][]byte) error {
	c.mu.Lock()
	if c.mflag(mWriteClosed) {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	n := c.pendingLocked()
	for _, b := range bufs {
		n += len(b)
	}
	if int64(n)+c.queued.Load() > int64(c.p.cfg.maxWrite) {
		c.mf |= mWriteClosed
		c.requestLocked(actOverflow)
		return c.overflowError()
	}
	c.unlendLocked()
	out := c.grabOut()
	for _, b := range bufs {
		*out = append(*out, b...)
	}
	c.finishWriteLocked()
	return nil
}

// finishWriteLocked ends a write (c.mu held; it unlocks). The loop checks the
// watermarks when it flushes, but a writer on another goroutine (a relay on
// another loop) could outrun a busy loop; so when the output passes the high
// watermark and the registered streaming producer is a transport (whose
// methods are safe anywhere), the writer pauses it at once, before the loop
// hears of it, and the loop takes the pause over and resumes it on drain.
func (c *conn) finishWriteLocked() {
	if c.mf&(mStreaming|mWPaused) != mStreaming {
		c.requestLocked(0)
		return
	}
	if c.mflag(mSelfProducer) {
		if high, _ := c.watermarks(); int64(c.pendingLocked())+c.queued.Load() > int64(high) {
			c.mf |= mWPaused
			if !c.readPaused.Swap(true) {
				c.l.st.paused.Add(1)
				c.acts |= actRead
			}
		}
		c.requestLocked(0)
		return
	}
	x := c.x.Load()
	if x == nil || x.producer == nil || x.wPausing {
		c.requestLocked(0)
		return
	}
	var t transport.Transport
	if high, _ := c.watermarks(); int64(c.pendingLocked())+c.queued.Load() > int64(high) {
		t, _ = x.producer.(transport.Transport)
	}
	if t == nil {
		c.requestLocked(0)
		return
	}
	gen := x.producerGen
	x.wPausing = true
	c.mu.Unlock()
	t.PauseProducing()
	c.mu.Lock()
	x.wPausing = false
	c.setM(mWPaused, x.producerGen == gen) // still the producer it paused
	c.requestLocked(0)
}

// overflowError is what a write past the hard cap returns; the connection is
// aborted with it wrapped.
func (c *conn) overflowError() error {
	return fmt.Errorf("%w: more than %d bytes buffered", transport.ErrWriteBufferOverflow, c.p.cfg.maxWrite)
}

// outPool holds output buffers between flushes: a connection holds one only
// while it has unflushed output, so idle connections cost no buffer at all.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxRetained is the largest output buffer given back to the pool.
const maxRetained = 256 << 10

// putOut gives an output buffer back to the pool (nil is allowed).
func putOut(bp *[]byte) {
	if bp != nil && cap(*bp) <= maxRetained {
		*bp = (*bp)[:0]
		outPool.Put(bp)
	}
}

// grabOut returns c's output buffer, taking one from the pool if it has
// none. c.mu held.
func (c *conn) grabOut() *[]byte {
	if c.outp == nil {
		c.outp = outPool.Get().(*[]byte)
		*c.outp = (*c.outp)[:0]
	}
	return c.outp
}

// LoseConnection closes after flushing (and after the producer, if any,
// unregistered); with TLS on, close_notify goes first. Any goroutine.
func (c *conn) LoseConnection() {
	if l := c.layer(); l != nil {
		l.LoseConnection()
		return
	}
	c.loseRaw()
}

// loseRaw is LoseConnection without TLS. Any goroutine.
func (c *conn) loseRaw() {
	c.mu.Lock()
	if c.mf&(mLosing|mGone) != 0 {
		c.mu.Unlock()
		return
	}
	c.mf |= mLosing
	if !c.hasProducerLocked() {
		c.mf |= mWriteClosed // with a producer, writes stay open until it unregisters
	}
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.requestLocked(actLose)
}

// CloseWithError closes after flushing, with a reason that matches
// ErrConnectionAborted and err, logged at warn level. Any goroutine.
func (c *conn) CloseWithError(err error) {
	if l := c.layer(); l != nil {
		l.CloseWithError(err)
		return
	}
	c.closeWithErrorRaw(err)
}

// closeWithErrorRaw is CloseWithError without TLS. Any goroutine.
func (c *conn) closeWithErrorRaw(err error) {
	if err == nil {
		c.loseRaw()
		return
	}
	c.mu.Lock()
	x := c.ext()
	if c.mf&(mLosing|mGone) != 0 || c.acts&actAbort != 0 || x.protoErr {
		c.mu.Unlock()
		return
	}
	x.loseReason = transport.Aborted(err) // read by the loop after it takes actLose under c.mu
	x.protoErr = true                     // and no second CloseWithError gets here
	c.mu.Unlock()
	// Logged without c.mu: a slow log writer must not hold up the
	// connection's writers.
	c.r().log.Warn().Stringer("peer", c.remote).AnErr("reason", err).Msg("closing connection: protocol error")
	c.loseRaw()
}

// LoseWriteConnection sends a FIN once the output is flushed (with TLS on,
// close_notify first) and keeps reading. Any goroutine.
func (c *conn) LoseWriteConnection() {
	if l := c.layer(); l != nil {
		l.LoseWriteConnection()
		return
	}
	c.loseWriteRaw()
}

// loseWriteRaw is LoseWriteConnection without TLS. Any goroutine.
func (c *conn) loseWriteRaw() {
	c.mu.Lock()
	if c.mf&(mWriteClosed|mGone) != 0 {
		c.mu.Unlock()
		return
	}
	c.mf |= mWriteClosed
	c.requestLocked(actLoseWrite)
}

// AbortConnection closes at once with a reset. Any goroutine.
func (c *conn) AbortConnection() {
	c.mu.Lock()
	if c.mflag(mGone) || c.acts&actAbort != 0 {
		c.mu.Unlock()
		return
	}
	c.mf |= mWriteClosed
	c.state.CompareAndSwap(stateOpen, stateDisconnecting)
	c.requestLocked(actAbort)
}

// hasProducerLocked reports whether a producer is registered. c.mu held.
func (c *conn) hasProducerLocked() bool {
	if c.mflag(mSelfProducer) {
		return true
	}
	x := c.x.Load()
	return x != nil && x.producer != nil
}

// RegisterProducer registers the producer of this connection's output. Any goroutine.
func (c *conn) RegisterProducer(p transport.Producer, streaming bool) error {
	if l := c.layer(); l != nil {
		return l.RegisterProducer(p, streaming)
	}
	return c.registerRaw(p, streaming)
}

// registerRaw is RegisterProducer without TLS. Any goroutine.
func (c *conn) registerRaw(p transport.Producer, streaming bool) error {
	c.mu.Lock()
	if c.mflag(mGone) || c.mf&(mWriteClosed|mLosing) == mWriteClosed {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	if c.hasProducerLocked() {
		c.mu.Unlock()
		return transport.ErrProducerRegistered
	}
	if p == transport.Producer(c) {
		c.mf |= mSelfProducer
	} else {
		x := c.ext()
		x.producer = p
		x.producerGen++
	}
	c.setM(mStreaming, streaming)
	c.mf |= mProdChanged // the loop notices the change
	c.mf &^= mWPaused
	c.requestLocked(0)
	return nil
}

// UnregisterProducer removes the producer. Any goroutine.
func (c *conn) UnregisterProducer() {
	if l := c.layer(); l != nil {
		l.UnregisterProducer()
		return
	}
	c.unregisterRaw()
}

// unregisterRaw is UnregisterProducer without TLS. Any goroutine.
func (c *conn) unregisterRaw() {
	c.mu.Lock()
	if !c.hasProducerLocked() {
		c.mu.Unlock()
		return
	}
	if c.mflag(mSelfProducer) {
		c.mf &^= mSelfProducer
	} else {
		x := c.x.Load()
		x.producer = nil
		x.producerGen++
	}
	c.mf |= mProdChanged // the loop notices the change
	c.mf &^= mWPaused
	if c.mflag(mLosing) {
		c.mf |= mWriteClosed
	}
	c.requestLocked(0)
}

// PauseProducing stops delivering and reading. Any goroutine.
func (c *conn) PauseProducing() {
	if c.readPaused.Swap(true) {
		return
	}
	c.l.st.paused.Add(1)
	if c.state.Load() == stateClosed && c.readPaused.Swap(false) {
		c.l.st.paused.Add(-1) // closed meanwhile: closeNow has counted out already
		return
	}
	c.mu.Lock()
	c.requestLocked(actRead)
}

// ReadPaused reports whether reading is paused. Any goroutine.
func (c *conn) ReadPaused() bool { return c.readPaused.Load() }

// ResumeProducing restarts delivering and reading. Any goroutine.
func (c *conn) ResumeProducing() {
	if !c.readPaused.Swap(false) {
		return
	}
	c.l.st.paused.Add(-1)
	c.resumed.Store(true)
	c.mu.Lock()
	c.requestLocked(actRead)
}

// StopProducing loses the connection. It is what a consumer calls when it
// goes; if this connection is closing already, it makes the loop look again
// at whether it may finish (its producer, that consumer, is gone). Any
// goroutine.
func (c *conn) StopProducing() {
	c.LoseConnection()
	c.recheckClose()
}

// recheckClose makes the loop look again at a close in progress. Any
// goroutine.
func (c *conn) recheckClose() {
	c.mu.Lock()
	if c.mflag(mGone) {
		c.mu.Unlock()
		return
	}
	c.requestLocked(0)
}

// SetWriteWatermarks sets this connection's watermarks. Any goroutine.
func (c *conn) SetWriteWatermarks(high, low int) {
	if high <= 0 && low <= 0 {
		return
	}
	x := c.ext()
	if high > 0 {
		x.high.Store(int64(high))
	}
	if low > 0 {
		x.low.Store(int64(low))
	}
}

func (c *conn) watermarks() (high, low int) {
	cfg := c.p.cfg
	high, low = cfg.highWater, cfg.lowWater
	if x := c.x.Load(); x != nil {
		if h := x.high.Load(); h > 0 {
			high = int(h)
		}
		if l := x.low.Load(); l > 0 {
			low = int(l)
		}
	}
	return high, min(low, high)
}

// RemoteAddr returns the peer's address. Any goroutine.
func (c *conn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr returns the local address. On a port bound to a wildcard address
// it is read from the socket the first time it is asked for while the
// connection is open (it costs a system call, so it is not done for
// connections that never ask); asked for the first time after the close, it
// is the port's address. Any goroutine.
func (c *conn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.local != nil {
		return c.local
	}
	if !c.mflag(mGone) {
		if sa, err := unix.Getsockname(int(c.fd)); err == nil {
			c.local = sockaddrToAddr(sa)
			return c.local
		}
	}
	if c.p.cn != nil {
		return &net.TCPAddr{} // a client's, closed before anyone asked
	}
	return c.p.addr
}

// Connected reports whether the connection is open and not closing. Any goroutine.
func (c *conn) Connected() bool { return c.state.Load() == stateOpen }

// Disconnecting reports whether the connection is closing or closed (not
// before it opened). Any goroutine.
func (c *conn) Disconnecting() bool {
	s := c.state.Load()
	return s == stateDisconnecting || s == stateClosed
}

// Loop returns the connection's loop. Any goroutine.
func (c *conn) Loop() transport.Loop { return (*connLoop)(c) }

// sockopt runs fn on the descriptor while it is certainly this connection's:
// the loop marks the connection gone, under c.mu, before it closes the
// descriptor.
func (c *conn) sockopt(fn func(fd int) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mflag(mGone) || c.state.Load() == stateNew {
		return transport.ErrClosed
	}
	return fn(int(c.fd))
}

// SetTCPNoDelay sets TCP_NODELAY. Any goroutine.
func (c *conn) SetTCPNoDelay(noDelay bool) error {
	v := 0
	if noDelay {
		v = 1
	}
	return c.sockopt(func(fd int) error { return socket.SetNoDelay(fd, v) })
}

// SetTCPKeepAlive sets TCP keep-alive. Any goroutine.
func (c *conn) SetTCPKeepAlive(idle, interval time.Duration, count int) error {
	return c.sockopt(func(fd int) error { return setKeepAlive(fd, idle, interval, count) })
}

// setKeepAlive turns keep-alive on with the given idle time, interval and
// probe count (whole seconds, at least 1; interval defaults to idle and count
// to 9), or off for idle <= 0.
func setKeepAlive(fd int, idle, interval time.Duration, count int) error {
	if idle <= 0 {
		return socket.SetKeepAlive(fd, false, 0, 0, 0)
	}
	if interval <= 0 {
		interval = idle
	}
	if count <= 0 {
		count = 9
	}
	secs := func(d time.Duration) int { return max(int(d/time.Second), 1) }
	return socket.SetKeepAlive(fd, true, secs(idle), secs(interval), count)
}

// connLoop is a connection's view of its loop: callbacks scheduled through it
// run on the loop, and a panic in them aborts that connection. It is the conn
// itself under another method set, so it costs nothing.
type connLoop conn

// Now returns the current time. Any goroutine.
func (v *connLoop) Now() time.Time { return time.Now() }

// CallLater runs fn on the connection's loop after d. Any goroutine.
func (v *connLoop) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	return newDelayedCall(v.l, d, v.wrap("timer", fn))
}

// CallSoon runs fn on the connection's loop. Any goroutine.
func (v *connLoop) CallSoon(fn func()) error { return v.l.submit(v.wrap("CallSoon", fn)) }

// DeferToGoroutine runs fn on the worker pool, then then on the connection's
// loop. Any goroutine.
func (v *connLoop) DeferToGoroutine(fn func() (any, error), then func(any, error)) {
	v.l.r.workers.run(v.l, fn, then, (*conn)(v))
}

func (v *connLoop) wrap(what string, fn func()) func() {
	c := (*conn)(v)
	return func() { c.guard(what, fn) }
}

var errRefused = errors.New("reactor: factory refused the connection")

// SharedLoop returns the connection's loop, shared by every connection on
// it (transport.LoopOf). Any goroutine.
func (c *conn) SharedLoop() transport.Loop { return c.l }
