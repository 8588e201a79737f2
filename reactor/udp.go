package reactor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/socket"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// UDPOption configures one UDP port, given to ListenUDP. Every option's zero
// value means its documented default. Options are plain values: build them
// on any goroutine.
type UDPOption func(*udpConfig)

type udpConfig struct {
	maxDatagram    int
	batch          int
	sendQueue      int
	listenMultiple bool
}

const (
	// udpDefaultMaxDatagram is the default receive buffer of a datagram:
	// more than any UDP datagram (65535 bytes with headers).
	udpDefaultMaxDatagram = 64 << 10
	// udpDefaultSendQueue bounds the bytes waiting to be sent, by default.
	udpDefaultSendQueue = 4 << 20
	// udpMaxBatch bounds UDPBatch.
	udpMaxBatch = 1024
	// udpRecordCost is what each queued datagram is charged on top of its
	// bytes, so that a flood of empty datagrams is bounded too.
	udpRecordCost = 64
	// udpFlushRounds bounds the queue swaps of one flush before it lets
	// the loop's other work run.
	udpFlushRounds = 8
)

func newUDPConfig(opts []UDPOption) udpConfig {
	c := udpConfig{}
	for _, o := range opts {
		o(&c)
	}
	if c.maxDatagram <= 0 {
		c.maxDatagram = udpDefaultMaxDatagram
	}
	if c.batch <= 0 {
		c.batch = udpDefaultBatch
	}
	c.batch = min(c.batch, udpMaxBatch)
	if c.sendQueue <= 0 {
		c.sendQueue = udpDefaultSendQueue
	}
	return c
}

// UDPMaxDatagram sets the receive buffer of one datagram, in bytes (default
// 64 KiB, more than any UDP datagram). A larger datagram is not delivered:
// it is logged and reported to the protocol's DatagramTooLarge, if it has
// one. With batched receives the port holds UDPBatch such buffers (memory
// the kernel never writes to costs address space, not RAM).
// Any goroutine.
func UDPMaxDatagram(n int) UDPOption { return func(c *udpConfig) { c.maxDatagram = n } }

// UDPBatch sets how many datagrams one system call may receive or send: on
// Linux, recvmmsg and sendmmsg take up to n at a time; 1 receives and sends
// one datagram per system call (recvmsg, sendmsg), as gnet's engine does.
// Elsewhere it is how many datagrams are received, one system call each,
// before the replies written meanwhile are sent. 0 means the default (see
// docs/benchmarks.md for the measurement behind it); at most 1024.
// Any goroutine.
func UDPBatch(n int) UDPOption { return func(c *udpConfig) { c.batch = n } }

// UDPSendQueue bounds the datagrams waiting to be sent, in bytes (each
// counts 64 bytes more than its size): datagrams written faster than the
// kernel takes them, or from other goroutines before the loop sends them.
// A write past the bound is dropped and returns transport.ErrSendQueueFull.
// Default 4 MiB. Any goroutine.
func UDPSendQueue(n int) UDPOption { return func(c *udpConfig) { c.sendQueue = n } }

// UDPListenMultiple sets SO_REUSEADDR and SO_REUSEPORT, so that several
// sockets (of this process or others) can bind the same address: Twisted's
// listenMultiple, for multicast receivers. Default off. Any goroutine.
func UDPListenMultiple(on bool) UDPOption { return func(c *udpConfig) { c.listenMultiple = on } }

// udpState is the reactor's UDP ports and the loop of each datagram
// protocol. Guarded by Reactor.mu.
type udpState struct {
	ports  map[*UDPPort]struct{}
	protos map[protocol.DatagramProtocol]*udpProto
}

// udpProto is a datagram protocol served by one or more ports, all on one
// loop, so that its callbacks never run concurrently.
type udpProto struct {
	l    *loop
	refs int // ports made and not yet stopped; guarded by Reactor.mu
	live int // ports registered on l; loop goroutine only
}

// UDPPort is a UDP socket and its datagram protocol: Twisted's udp.Port and
// MulticastPort. It is the protocol's transport.DatagramTransport. Every
// method is safe from any goroutine.
type UDPPort struct {
	r     *Reactor
	l     *loop
	rec   *udpProto
	proto protocol.DatagramProtocol
	big   protocol.DatagramTooLargeNotifier // nil unless the protocol is one
	cfg   udpConfig
	fd    int
	fam   udpFamily
	local *net.UDPAddr

	peerKey udpKey                      // written once, before peer
	peer    atomic.Pointer[net.UDPAddr] // the connected peer, or nil
	queued  atomic.Int64                // bytes charged to pend and send
	dropped atomic.Int64
	logged  atomic.Int64 // when a rate-limited warning was last logged (unix ns)

	mu          sync.Mutex
	closed      bool // StopListening was called
	sockClosed  bool
	done        chan struct{} // closed once the socket is closed
	pend        udpQueue      // written, not yet taken by the loop
	delivering  bool          // the loop delivers a batch and sends pend after it
	flushQueued bool          // a flush is due (task queued, or running)

	// Loop goroutine only.
	registered bool // in the poller and the loop's table; the descriptor is open
	regW       bool // write interest is on
	send       udpQueue
	rx         udpRx
	tx         udpTx
	cache      *addrCache
	flushing   bool // flush is running (a callback it calls may write)
	readTask   func()
	flushTask  func()
}

var _ transport.DatagramTransport = (*UDPPort)(nil)

// udpOut is one queued datagram: q.buf[off:off+n], to the address to
// unless the socket's peer is meant.
type udpOut struct {
	off, n int32
	hasTo  bool
	to     udpKey
}

// udpQueue holds datagrams in the order they were written.
type udpQueue struct {
	buf  []byte
	msgs []udpOut
	next int   // the first one not sent yet
	cost int64 // what its datagrams were charged
}

func (q *udpQueue) push(b []byte, k *udpKey, hasTo bool, cost int64) {
	q.msgs = append(q.msgs, udpOut{off: int32(len(q.buf)), n: int32(len(b)), hasTo: hasTo, to: *k})
	q.buf = append(q.buf, b...)
	q.cost += cost
}

func (q *udpQueue) pending() bool { return q.next < len(q.msgs) }

func (q *udpQueue) data(o *udpOut) []byte { return q.buf[o.off : o.off+o.n] }

// udpKeepQueue is the largest queue buffer kept for reuse once it is empty.
const udpKeepQueue = 1 << 20

func (q *udpQueue) reset() {
	if cap(q.buf) > udpKeepQueue {
		q.buf = nil
		q.msgs = nil
	}
	q.buf, q.msgs, q.next, q.cost = q.buf[:0], q.msgs[:0], 0, 0
}

// ListenUDP binds addr ("host:port", or a udp endpoint string such as
// "udp:9000" or "udp:9000:interface=127.0.0.1"; port 0 picks a free one; an
// empty host binds every address, IPv4 and IPv6) and delivers its datagrams to p:
// Twisted's listenUDP, and listenMulticast with UDPListenMultiple and
// JoinGroup. It works before Run (the port starts when Run does) and while
// the reactor runs. The port runs on one loop: the loop of p's other ports
// if p serves some already (so p's callbacks never run concurrently), else
// the next one round-robin. There, p is bound to the port (MakeDatagram) and,
// if this is p's first port, StartProtocol runs. p must be comparable (a
// pointer, typically). Any goroutine.
func (r *Reactor) ListenUDP(addr string, p protocol.DatagramProtocol, opts ...UDPOption) (*UDPPort, error) {
	if p == nil {
		return nil, errors.New("reactor: ListenUDP with a nil protocol")
	}
	if !reflect.TypeOf(p).Comparable() {
		return nil, fmt.Errorf("reactor: ListenUDP with a protocol of type %T, which is not comparable (pass a pointer)", p)
	}
	addr, err := UDPAddress(addr)
	if err != nil {
		return nil, err
	}
	cfg := newUDPConfig(opts)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return nil, ErrStopped
	}
	type opt = socket.Option[int]
	var sopts []opt
	if cfg.listenMultiple {
		sopts = append(sopts, opt{SetSockOpt: socket.SetReuseAddr, Opt: 1}, opt{SetSockOpt: socket.SetReuseport, Opt: 1})
	}
	fd, _, err := socket.UDPSocket("udp", addr, false, sopts, nil)
	if err != nil {
		return nil, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	k, _ := keyOfSockaddr(sa)
	fam := udpFamily{fam: unix.AF_INET}
	if _, ok := sa.(*unix.SockaddrInet6); ok {
		fam.fam = unix.AF_INET6
		v6only, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
		fam.v6only = err == nil && v6only != 0
	}
	local := k.udpAddr()
	if fam.fam == unix.AF_INET6 && k.isV4() { // never for a bound v6 socket; keep its form
		local.IP = local.IP.To16()
	}

	if r.udp.protos == nil {
		r.udp.protos = make(map[protocol.DatagramProtocol]*udpProto)
		r.udp.ports = make(map[*UDPPort]struct{})
	}
	rec := r.udp.protos[p]
	if rec == nil {
		rec = &udpProto{l: r.loops[r.nextPort%len(r.loops)]}
		r.nextPort++
		r.udp.protos[p] = rec
	}
	rec.refs++
	u := &UDPPort{r: r, l: rec.l, rec: rec, proto: p, cfg: cfg, fd: fd, fam: fam, local: local, done: make(chan struct{})}
	u.big, _ = p.(protocol.DatagramTooLargeNotifier)
	u.readTask = func() {
		if u.registered {
			u.readable()
		}
	}
	u.flushTask = u.flush
	if err := u.l.submit(u.register); err != nil {
		r.releaseUDPProto(u)
		unix.Close(fd)
		return nil, ErrStopped
	}
	r.udp.ports[u] = struct{}{}
	r.log.Debug().Stringer("addr", local).Int("loop", u.l.idx).Msg("listening (UDP)")
	return u, nil
}

// releaseUDPProto drops u's reference to its protocol's loop. Called with
// r.mu held.
func (r *Reactor) releaseUDPProto(u *UDPPort) {
	if u.rec.refs--; u.rec.refs == 0 {
		delete(r.udp.protos, u.proto)
	}
}

// stopUDP stops every UDP port, for Stop. Any goroutine but the loops'.
func (r *Reactor) stopUDP() {
	r.mu.Lock()
	ports := make([]*UDPPort, 0, len(r.udp.ports))
	for u := range r.udp.ports {
		ports = append(ports, u)
	}
	r.mu.Unlock()
	for _, u := range ports {
		_ = u.StopListening()
	}
}

// register adds the socket to its loop and starts the protocol. Loop
// goroutine, inside a dispatch.
func (u *UDPPort) register() {
	u.mu.Lock()
	closed := u.closed
	u.mu.Unlock()
	if closed {
		return
	}
	if err := u.l.poller.AddRead(&netpoll.PollAttachment{FD: u.fd}, true); err != nil {
		u.r.log.Error().Err(err).Stringer("addr", u.local).Msg("could not watch the UDP socket")
		return
	}
	u.l.addOther(u.fd, u)
	u.initIO()
	u.cache = new(addrCache)
	u.registered = true
	u.rec.live++
	if u.rec.live == 1 {
		u.guard("StartProtocol", func() { protocol.MakeDatagram(u.proto, u) })
	} else {
		protocol.WireDatagram(u.proto, u)
	}
	if u.registered {
		u.readable() // datagrams that arrived before
	}
	if u.registered {
		u.flush() // datagrams written before
	}
}

// StopListening closes the socket: datagrams already written are sent as
// far as the kernel takes them at once, then nothing more is received or
// sent, and later writes return transport.ErrClosed. If this was the
// protocol's last port, StopProtocol runs on the port's loop. It returns once
// the socket is closed, except when called on another of the reactor's
// loops than the port's (from a callback): it then returns at once and the
// close finishes in the background. Calling it again only waits (off the
// loops) until the socket is closed. Any goroutine.
func (u *UDPPort) StopListening() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		if !u.r.onLoop() {
			<-u.done
		}
		return nil
	}
	u.closed = true
	u.mu.Unlock()

	switch started, stopped := u.l.state(); {
	case !started || stopped:
		u.closeSocket() // no loop serves it
	case u.l.onLoop():
		u.unregister()
	default:
		if err := u.l.submit(u.unregister); err != nil {
			u.closeSocket()
		}
		if u.r.onLoop() {
			go u.finishStop()
			return nil
		}
	}
	u.finishStop()
	return nil
}

func (u *UDPPort) finishStop() {
	<-u.done
	u.r.mu.Lock()
	if _, ok := u.r.udp.ports[u]; ok {
		delete(u.r.udp.ports, u)
		u.r.releaseUDPProto(u)
	}
	u.r.mu.Unlock()
	u.r.log.Debug().Stringer("addr", u.local).Msg("stopped listening (UDP)")
}

// unregister sends what it can of the queue, takes the socket off its
// loop, closes it and stops the protocol if this was its last port. Loop
// goroutine.
func (u *UDPPort) unregister() {
	if !u.registered {
		u.closeSocket()
		return
	}
	u.flush()
	u.registered = false
	u.l.removeOther(u.fd)
	_ = u.l.poller.Delete(u.fd)
	// StopProtocol runs before done is closed: StopListening returns after
	// it, as the ref-count promises.
	u.closeSocketThen(func() {
		if u.rec.live--; u.rec.live == 0 {
			u.guard("StopProtocol", u.proto.StopProtocol)
		}
	})
}

// shut closes the socket when the loop stops with the port still on it.
// Loop goroutine.
func (u *UDPPort) shut() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	u.registered = false
	u.closeSocket()
}

// closeSocket closes the socket once. The loop's goroutine, or any when no
// loop serves the port.
func (u *UDPPort) closeSocket() { u.closeSocketThen(nil) }

// closeSocketThen closes the socket once, then runs then (if not nil) before
// it signals done. The loop's goroutine, or any when no loop serves the
// port.
func (u *UDPPort) closeSocketThen(then func()) {
	u.mu.Lock()
	if u.sockClosed {
		u.mu.Unlock()
		return
	}
	u.sockClosed = true
	unix.Close(u.fd)
	u.mu.Unlock()
	if then != nil {
		then()
	}
	close(u.done)
}

// ready handles a readiness event of the socket. Loop goroutine, inside a
// dispatch.
func (u *UDPPort) ready(ev netpoll.IOEvent, flags netpoll.IOFlags) {
	if writeEvent(ev, flags) && u.send.pending() {
		u.flush()
	}
	if readEvent(ev, flags) && u.registered {
		u.readable()
	}
}

// readable receives until the socket is empty, a batch at a time, sending
// after each batch what the protocol wrote meanwhile; after
// maxReadsPerEvent batches the rest waits behind the loop's other work.
// Loop goroutine, inside a dispatch.
func (u *UDPPort) readable() {
	for range maxReadsPerEvent {
		u.mu.Lock()
		u.delivering = true
		u.mu.Unlock()
		more := u.recvBatch()
		u.mu.Lock()
		u.delivering = false
		u.mu.Unlock()
		u.flush()
		if !more || !u.registered {
			return
		}
	}
	_ = u.l.submit(u.readTask)
}

// received handles one datagram of size bytes (data holds what fit) from k.
// Loop goroutine, inside a dispatch.
func (u *UDPPort) received(data []byte, size int, truncated bool, k *udpKey) {
	addr := u.cache.get(k)
	if truncated {
		u.tooLarge(size, addr)
		return
	}
	defer u.recoverPanic("DatagramReceived", addr)
	u.proto.DatagramReceived(data, addr)
}

func (u *UDPPort) tooLarge(size int, addr *net.UDPAddr) {
	u.warnLimited().Int("size", size).Int("buffer", u.cfg.maxDatagram).Stringer("peer", addr).Stringer("addr", u.local).
		Msg("datagram larger than the receive buffer; not delivered")
	if u.big != nil {
		u.guard("DatagramTooLarge", func() { u.big.DatagramTooLarge(size, addr) })
	}
}

// recvFailed handles an error of a receive; it reports whether to go on
// reading. Loop goroutine, inside a dispatch.
func (u *UDPPort) recvFailed(err error) bool {
	switch err {
	case unix.EAGAIN:
		return false
	case unix.EINTR:
		return true
	case unix.ECONNREFUSED:
		if u.peer.Load() != nil {
			u.guard("ConnectionRefused", u.proto.ConnectionRefused)
		}
		return true
	}
	u.warnLimited().Err(os.NewSyscallError("recvmsg", err)).Stringer("addr", u.local).Msg("UDP receive failed")
	return false
}

// sendFailed handles the error of one queued datagram, which is dropped.
// Loop goroutine, inside a dispatch.
func (u *UDPPort) sendFailed(err error, o *udpOut) {
	if err == unix.ECONNREFUSED && u.peer.Load() != nil {
		u.guard("ConnectionRefused", u.proto.ConnectionRefused)
		return
	}
	e := u.warnLimited().Err(os.NewSyscallError("sendmsg", err)).Stringer("addr", u.local).Int32("size", o.n)
	if o.hasTo {
		e = e.Stringer("peer", u.cache.get(&o.to))
	}
	e.Msg("datagram not sent")
}

// flush sends the queued datagrams: first what the kernel refused before,
// then what was written since, in order. Loop goroutine, inside a dispatch.
func (u *UDPPort) flush() {
	if u.flushing {
		return // the flush in progress sends it
	}
	u.flushing = true
	defer func() { u.flushing = false }()
	for range udpFlushRounds {
		if !u.registered {
			u.mu.Lock()
			u.flushQueued = false
			u.mu.Unlock()
			return // register (or unregister) sends them
		}
		if u.send.pending() {
			if u.sendBatch(&u.send) == unix.EAGAIN {
				u.mu.Lock()
				u.flushQueued = false
				u.mu.Unlock()
				u.watchWrite(true) // the write event goes on
				return
			}
		}
		if u.send.cost != 0 {
			u.queued.Add(-u.send.cost)
		}
		u.send.reset()
		u.mu.Lock()
		u.flushQueued = false
		if len(u.pend.msgs) == 0 {
			u.mu.Unlock()
			u.watchWrite(false)
			return
		}
		u.pend, u.send = u.send, u.pend
		u.mu.Unlock()
	}
	u.mu.Lock()
	again := !u.flushQueued
	u.flushQueued = true
	u.mu.Unlock()
	if again {
		_ = u.l.submit(u.flushTask)
	}
}

// watchWrite turns the write interest on or off. Loop goroutine.
func (u *UDPPort) watchWrite(on bool) {
	if on == u.regW || !u.registered {
		return
	}
	pa := &netpoll.PollAttachment{FD: u.fd}
	var err error
	if on {
		err = u.l.poller.ModReadWrite(pa, true)
	} else {
		err = u.l.poller.ModRead(pa, true)
	}
	if err != nil {
		u.r.log.Error().Err(err).Stringer("addr", u.local).Msg("could not change the UDP socket's poller interest")
		return
	}
	u.regW = on
}

// WriteTo sends p as one datagram to addr; see
// transport.DatagramTransport.WriteTo for the errors. The datagram is copied
// into the port's queue: written during DatagramReceived, it goes out with
// the other replies of the batch (one sendmmsg on Linux); written on the
// port's loop otherwise, at once; from another goroutine, when the loop
// runs the flush it queued. Any goroutine.
func (u *UDPPort) WriteTo(p []byte, addr net.Addr) error {
	if u.peer.Load() != nil {
		if addr != nil {
			k, err := u.fam.destKey(addr)
			if err != nil {
				return err
			}
			if k != u.peerKey {
				return fmt.Errorf("%w: %s is not the connected peer %s", transport.ErrInvalidAddress, addr, u.peer.Load())
			}
		}
		return u.enqueue(p, &u.peerKey, false)
	}
	k, err := u.fam.destKey(addr)
	if err != nil {
		return err
	}
	return u.enqueue(p, &k, true)
}

// Write sends p as one datagram to the connected peer; see
// transport.DatagramTransport.Write. Any goroutine.
func (u *UDPPort) Write(p []byte) error {
	if u.peer.Load() == nil {
		if u.isClosed() {
			return transport.ErrClosed
		}
		return transport.ErrNotConnected
	}
	return u.enqueue(p, &u.peerKey, false)
}

func (u *UDPPort) enqueue(p []byte, k *udpKey, hasTo bool) error {
	if max := u.fam.maxPayload(k); len(p) > max {
		return fmt.Errorf("%w: %d bytes, at most %d", transport.ErrMessageTooLong, len(p), max)
	}
	cost := int64(len(p) + udpRecordCost)
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return transport.ErrClosed
	}
	if u.queued.Load()+cost > int64(u.cfg.sendQueue) {
		u.mu.Unlock()
		n := u.dropped.Add(1)
		u.warnLimited().Int64("dropped", n).Stringer("addr", u.local).Msg("UDP send queue full; datagram dropped")
		return transport.ErrSendQueueFull
	}
	u.queued.Add(cost)
	u.pend.push(p, k, hasTo, cost)
	if u.delivering || u.flushQueued {
		u.mu.Unlock()
		return nil
	}
	u.flushQueued = true
	u.mu.Unlock()
	if u.l.onLoop() {
		u.flush()
		return nil
	}
	if err := u.l.submit(u.flushTask); err != nil {
		return transport.ErrClosed
	}
	return nil
}

// Connect connects the socket to addr; see
// transport.DatagramTransport.Connect. Any goroutine.
func (u *UDPPort) Connect(addr net.Addr) error {
	k, err := u.fam.destKey(addr)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.closed:
		return transport.ErrClosed
	case u.peer.Load() != nil:
		return transport.ErrAlreadyConnected
	}
	var s4 unix.SockaddrInet4
	var s6 unix.SockaddrInet6
	if err := unix.Connect(u.fd, k.sockaddr(u.fam.fam, &s4, &s6)); err != nil {
		return os.NewSyscallError("connect", err)
	}
	u.peerKey = k
	u.peer.Store(k.udpAddr())
	return nil
}

// RemoteAddr returns the connected peer, or nil. Any goroutine.
func (u *UDPPort) RemoteAddr() net.Addr {
	if a := u.peer.Load(); a != nil {
		return a
	}
	return nil
}

// LocalAddr returns the bound address, with the port the system chose for
// port 0. Any goroutine.
func (u *UDPPort) LocalAddr() net.Addr { return u.local }

// Loop returns the loop that runs the protocol's callbacks. Any goroutine.
func (u *UDPPort) Loop() transport.Loop { return u.l }

// DroppedDatagrams returns how many datagrams writes dropped because the
// send queue was full (see UDPSendQueue). Any goroutine.
func (u *UDPPort) DroppedDatagrams() int64 { return u.dropped.Load() }

func (u *UDPPort) isClosed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.closed
}

// sockopt runs fn on the socket under the port's mutex, so that it never
// reaches a closed descriptor. Any goroutine.
func (u *UDPPort) sockopt(name string, fn func(fd int) error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return transport.ErrClosed
	}
	if err := fn(u.fd); err != nil {
		return os.NewSyscallError("setsockopt "+name, err)
	}
	return nil
}

// JoinGroup joins the multicast group on ifi (nil: the system's choice);
// see transport.DatagramTransport.JoinGroup. An IPv4 group needs an IPv4 or
// dual-stack socket, an IPv6 group an IPv6 one. Any goroutine.
func (u *UDPPort) JoinGroup(group net.IP, ifi *net.Interface) error {
	return u.membership(group, ifi, true)
}

// LeaveGroup leaves a group joined with JoinGroup. Any goroutine.
func (u *UDPPort) LeaveGroup(group net.IP, ifi *net.Interface) error {
	return u.membership(group, ifi, false)
}

func (u *UDPPort) membership(group net.IP, ifi *net.Interface, join bool) error {
	if !group.IsMulticast() {
		return fmt.Errorf("%w: %v is not a multicast group", transport.ErrInvalidAddress, group)
	}
	if g4 := group.To4(); g4 != nil {
		if u.fam.fam == unix.AF_INET6 && u.fam.v6only {
			return fmt.Errorf("%w: IPv4 group %v on an IPv6-only socket", transport.ErrInvalidAddress, group)
		}
		mreq := &unix.IPMreq{}
		copy(mreq.Multiaddr[:], g4)
		if ifi != nil {
			ip, err := interfaceIPv4(ifi)
			if err != nil {
				return err
			}
			copy(mreq.Interface[:], ip)
		}
		opt := unix.IP_ADD_MEMBERSHIP
		if !join {
			opt = unix.IP_DROP_MEMBERSHIP
		}
		return u.sockopt("IP_ADD_MEMBERSHIP", func(fd int) error { return unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, opt, mreq) })
	}
	if u.fam.fam == unix.AF_INET {
		return fmt.Errorf("%w: IPv6 group %v on an IPv4 socket", transport.ErrInvalidAddress, group)
	}
	mreq := &unix.IPv6Mreq{}
	copy(mreq.Multiaddr[:], group.To16())
	if ifi != nil {
		mreq.Interface = uint32(ifi.Index)
	}
	opt := unix.IPV6_JOIN_GROUP
	if !join {
		opt = unix.IPV6_LEAVE_GROUP
	}
	return u.sockopt("IPV6_JOIN_GROUP", func(fd int) error { return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, opt, mreq) })
}

// interfaceIPv4 returns ifi's first IPv4 address, which names it in IPv4
// multicast options.
func interfaceIPv4(ifi *net.Interface) (net.IP, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip := n.IP.To4(); ip != nil {
				return ip, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: interface %s has no IPv4 address", transport.ErrInvalidAddress, ifi.Name)
}

// SetMulticastLoopback sets whether multicast datagrams sent are looped back
// to this host. Any goroutine.
func (u *UDPPort) SetMulticastLoopback(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return u.sockopt("multicast loopback", func(fd int) error {
		if u.fam.fam == unix.AF_INET6 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, v); err != nil || u.fam.v6only {
				return err
			}
		}
		return unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, byte(v))
	})
}

// SetMulticastTTL sets the time-to-live (hop limit) of multicast datagrams
// sent, 0 to 255. Any goroutine.
func (u *UDPPort) SetMulticastTTL(ttl int) error {
	if ttl < 0 || ttl > 255 {
		return fmt.Errorf("reactor: multicast TTL %d out of range 0-255", ttl)
	}
	return u.sockopt("multicast TTL", func(fd int) error {
		if u.fam.fam == unix.AF_INET6 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, ttl); err != nil || u.fam.v6only {
				return err
			}
		}
		return unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, byte(ttl))
	})
}

// guard runs a protocol callback, logging a panic; the port goes on.
// Loop goroutine.
func (u *UDPPort) guard(what string, fn func()) {
	defer u.recoverPanic(what, nil)
	fn()
}

func (u *UDPPort) recoverPanic(what string, peer net.Addr) {
	if v := recover(); v != nil {
		u.r.logPanic(what, newPanicError(v), peer)
	}
}

// warnLimited returns a warning event, or nil (which logs nothing) if the
// port logged one less than a second ago. Any goroutine.
func (u *UDPPort) warnLimited() *zerolog.Event {
	now := time.Now().UnixNano()
	last := u.logged.Load()
	if now-last < int64(time.Second) || !u.logged.CompareAndSwap(last, now) {
		return nil
	}
	return u.r.log.Warn()
}

// UDPAddress returns the "host:port" of a UDP address given as "host:port"
// or as a udp endpoint string ("udp:9000:interface=127.0.0.1", read by
// endpoint.ParseServer); another endpoint type is an error wrapping
// endpoint.ErrUnsupported. Any goroutine.
func UDPAddress(desc string) (string, error) {
	typ, _, ok := strings.Cut(desc, ":")
	if !ok || !endpoint.IsType(typ) {
		return desc, nil // host:port, checked when bound
	}
	s, err := endpoint.ParseServer(desc)
	if err != nil {
		return "", err
	}
	if s.Kind != endpoint.UDP {
		return "", fmt.Errorf("reactor: %s: %w: a datagram port listens on udp", desc, endpoint.ErrUnsupported)
	}
	return s.Addr, nil
}
