package reactor

import (
	"errors"
	"net"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/socket"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
)

const (
	// maxAcceptsPerEvent bounds the accepts of one readiness event before
	// the rest waits behind the loop's other work.
	maxAcceptsPerEvent = 64
	// Accept back-off after a failed accept (EMFILE and the like).
	acceptFirstBackoff = 5 * time.Millisecond
	acceptMaxBackoff   = 500 * time.Millisecond
	// shedAfter is how long running out of descriptors may last before the
	// acceptor sheds waiting connections with the reserved descriptor.
	shedAfter = time.Second
	// maxShed bounds the connections shed at once.
	maxShed = 256
)

// Port is a listening TCP or UNIX socket: Twisted's IListeningPort.
type Port struct {
	r        *Reactor
	f        factory.Factory
	cfg      *config // the reactor's, or the port's own (see Option)
	fd       int
	addr     net.Addr
	wildcard bool        // bound to the unspecified address (or a connector's: see below)
	l        *loop       // the loop that accepts for it
	unix     *unixListen // a UNIX socket's file and lock, or nil
	cn       *Connector  // set on the stand-in port of a connector's connections

	accepted, acceptErrors atomic.Int64 // for Stats

	mu         sync.Mutex
	stopped    bool // StopListening was called
	sockClosed bool
	done       chan struct{} // closed once the socket is closed

	// Loop goroutine only.
	failingSince time.Time
	backoff      time.Duration
	waiting      bool // a back-off timer will retry the accept
}

// ListenTCP binds addr ("host:port"; port 0 picks a free one; an empty host
// listens on every address, IPv4 and IPv6) and serves it with f: Twisted's
// listenTCP. It works before Run (connections are accepted once Run starts)
// and while the reactor runs. The socket gets SO_REUSEADDR, and accepted
// connections TCP_NODELAY (Nagle off, as Go's net does). opts override the
// reactor's options for this port's connections (see Option). The factory's
// StartFactory runs here, on the calling goroutine, if this is its first
// port. Any goroutine.
func (r *Reactor) ListenTCP(addr string, f factory.Factory, opts ...Option) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: ListenTCP with a nil factory")
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	return r.listen(f, cfg, func() (int, net.Addr, *unixListen, error) {
		fd, err := listenTCPSocket(addr, cfg)
		if err != nil {
			return -1, nil, nil, err
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			unix.Close(fd)
			return -1, nil, nil, os.NewSyscallError("getsockname", err)
		}
		return fd, sockaddrToTCP(sa), nil, nil
	})
}

// listen makes a port with the socket that open creates, with r.mu held.
func (r *Reactor) listen(f factory.Factory, cfg *config, open func() (int, net.Addr, *unixListen, error)) (*Port, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return nil, ErrStopped
	}
	fd, addr, ul, err := open()
	if err != nil {
		return nil, err
	}
	wildcard := false
	if ta, ok := addr.(*net.TCPAddr); ok {
		wildcard = ta.IP.IsUnspecified()
	}
	p := &Port{r: r, f: f, cfg: cfg, fd: fd, addr: addr, wildcard: wildcard, unix: ul, done: make(chan struct{})}
	if err := r.factoryStart(f); err != nil {
		p.closeSocket()
		return nil, err
	}
	r.ports[p] = struct{}{}
	p.l = r.loops[r.nextPort%len(r.loops)]
	r.nextPort++
	if r.running { // else Run registers it, once every loop runs
		if err := p.l.submit(p.register); err != nil {
			delete(r.ports, p)
			p.closeSocket()
			return nil, ErrStopped
		}
	}
	r.log.Debug().Stringer("addr", p.addr).Int("loop", p.l.idx).Msg("listening")
	return p, nil
}

// listenTCPSocket creates a listening TCP socket with gnet's socket package.
func listenTCPSocket(addr string, cfg *config) (int, error) {
	return listenTCPSocketOn("tcp", addr, cfg)
}

// listenTCPSocketOn is listenTCPSocket on "tcp" (dual-stack for an IPv6 or
// empty host), "tcp4" or "tcp6" (IPv6 only).
func listenTCPSocketOn(network, addr string, cfg *config) (int, error) {
	opts := append(bufferOpts(cfg), keepAliveOpt(cfg))
	if cfg.reusePort {
		opts = append(opts, socket.Option[int]{SetSockOpt: socket.SetReuseport, Opt: 1})
	}
	fd, _, err := socket.TCPSocket(network, addr, true, opts, nil)
	if err != nil {
		return -1, err
	}
	return fd, setBacklog(fd, cfg)
}

// bufferOpts are the socket options every socket gets: SO_REUSEADDR and the
// kernel buffer sizes asked for.
func bufferOpts(cfg *config) []socket.Option[int] {
	type opt = socket.Option[int]
	opts := []opt{{SetSockOpt: socket.SetReuseAddr, Opt: 1}}
	if cfg.readBuffer > 0 {
		opts = append(opts, opt{SetSockOpt: socket.SetRecvBuffer, Opt: cfg.readBuffer})
	}
	if cfg.writeBuffer > 0 {
		opts = append(opts, opt{SetSockOpt: socket.SetSendBuffer, Opt: cfg.writeBuffer})
	}
	return opts
}

// keepAliveOpt sets TCP keep-alive. It is set once on a listening socket,
// which accepted sockets inherit, instead of on every accepted one.
func keepAliveOpt(cfg *config) socket.Option[int] {
	idle, interval, count := 15*time.Second, 15*time.Second, 9 // Go's defaults
	if cfg.keepAliveSet {
		idle, interval, count = cfg.keepAlive, cfg.keepInterval, cfg.keepCount
	}
	return socket.Option[int]{SetSockOpt: func(fd, _ int) error { return setKeepAlive(fd, idle, interval, count) }}
}

// setBacklog applies WithBacklog (gnet's socket package listens with the
// system's maximum); on failure it closes fd.
func setBacklog(fd int, cfg *config) error {
	if cfg.backlog > 0 {
		if err := unix.Listen(fd, cfg.backlog); err != nil {
			unix.Close(fd)
			return os.NewSyscallError("listen", err)
		}
	}
	return nil
}

// factoryStart and factoryStop keep Twisted's doStart/doStop count per factory.
// A factory whose type cannot be a map key (a func, or a struct value holding
// a slice) has no identity to count by: each port or connector starts and
// stops it on its own. factoryStart is called with r.mu held.
func (r *Reactor) factoryStart(f factory.Factory) (err error) {
	counted := reflect.TypeOf(f).Comparable()
	if counted {
		n := r.factories[f]
		r.factories[f] = n + 1
		if n > 0 {
			return nil
		}
	}
	defer func() {
		if v := recover(); v != nil {
			pe := newPanicError(v)
			r.logPanic("StartFactory", pe, nil)
			if counted {
				delete(r.factories, f)
			}
			err = pe
		}
	}()
	f.StartFactory()
	return nil
}

func (r *Reactor) factoryStop(f factory.Factory) {
	if !reflect.TypeOf(f).Comparable() {
		r.safeCall("StopFactory", f.StopFactory)
		return
	}
	r.mu.Lock()
	n := r.factories[f] - 1
	if n > 0 {
		r.factories[f] = n
		r.mu.Unlock()
		return
	}
	delete(r.factories, f)
	r.mu.Unlock()
	r.safeCall("StopFactory", f.StopFactory)
}

// Addr returns the bound address, with the port the system chose for port 0.
// Any goroutine.
func (p *Port) Addr() net.Addr { return p.addr }

// StopListening closes the listening socket; connections already open stay
// open. If this was the factory's last port, StopFactory runs on the calling
// goroutine. It returns once the socket is closed, except when called on
// another of the reactor's loops than the port's (from a callback): it then
// returns at once, and the close and StopFactory finish in the background.
// Calling it again only waits (off the loops) until the socket is closed.
// Any goroutine.
func (p *Port) StopListening() error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		if !p.r.onLoop() {
			<-p.done // the first call is closing it
		}
		return nil
	}
	p.stopped = true
	p.mu.Unlock()

	switch started, stopped := p.l.state(); {
	case !started || stopped:
		p.closeSocket() // no loop accepts on it
	case p.l.onLoop():
		p.unregister()
	default:
		if err := p.l.submit(p.unregister); err != nil {
			p.closeSocket()
		}
		if p.r.onLoop() {
			go p.finishStop()
			return nil
		}
	}
	p.finishStop()
	return nil
}

func (p *Port) finishStop() {
	<-p.done
	p.r.mu.Lock()
	delete(p.r.ports, p)
	p.r.acceptErrorsGone += p.acceptErrors.Load()
	p.r.mu.Unlock()
	p.r.factoryStop(p.f)
	p.r.log.Debug().Stringer("addr", p.addr).Msg("stopped listening")
}

func (p *Port) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// closeSocket closes the listening socket once. Any goroutine, when no loop
// accepts on it.
func (p *Port) closeSocket() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.sockClosed {
		p.sockClosed = true
		unix.Close(p.fd)
		if p.unix != nil {
			p.unix.remove()
		}
		close(p.done)
	}
}

// register adds the listening socket to its loop's poller. Loop goroutine.
func (p *Port) register() {
	if p.isStopped() {
		return
	}
	if err := p.l.poller.AddRead(&netpoll.PollAttachment{FD: p.fd}, listenEdge); err != nil {
		p.r.log.Error().Err(err).Stringer("addr", p.addr).Msg("could not watch the listening socket")
		return
	}
	p.l.ports[p.fd] = p
	p.acceptReady() // connections that queued before Run
}

// unregister removes the listening socket from its loop and closes it.
// Loop goroutine.
func (p *Port) unregister() {
	if p.l.ports[p.fd] == p {
		delete(p.l.ports, p.fd)
		_ = p.l.poller.Delete(p.fd)
	}
	p.closeSocket()
}

// acceptReady accepts what is waiting: one connection when the listener is
// level-triggered (the poller reports it again), else until EAGAIN, up to
// maxAcceptsPerEvent at a time. Loop goroutine.
func (p *Port) acceptReady() {
	if p.waiting || p.l.ports[p.fd] != p {
		return // a back-off timer will try again; or stopped
	}
	n := 1
	if listenEdge {
		n = maxAcceptsPerEvent
	}
	for range n {
		nfd, sa, err := socket.Accept(p.fd)
		if err != nil {
			switch err {
			case unix.EAGAIN:
				p.failingSince, p.backoff = time.Time{}, 0
				return
			case unix.EINTR, unix.ECONNABORTED:
				continue
			}
			p.acceptFailed(err)
			return
		}
		p.failingSince, p.backoff = time.Time{}, 0
		p.r.accepted(p, nfd, sa)
		if p.l.ports[p.fd] != p {
			return // a callback stopped the port
		}
	}
	if listenEdge {
		_ = p.l.submit(p.acceptReady)
	}
}

// acceptFailed backs off after a failed accept. Out of descriptors, waiting
// clients stay in the backlog at first (they are served if descriptors come
// back soon); when it lasts longer than shedAfter, the acceptor sheds them
// with the reserved descriptor, so they hear at once instead of hanging.
// Loop goroutine.
func (p *Port) acceptFailed(err error) {
	p.acceptErrors.Add(1)
	now := time.Now()
	if p.failingSince.IsZero() {
		p.failingSince = now
	}
	shed := 0
	switch err {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		if now.Sub(p.failingSince) >= shedAfter {
			shed = p.l.shed(p.fd)
		}
	}
	if p.backoff == 0 {
		p.backoff = acceptFirstBackoff
	} else if p.backoff *= 2; p.backoff > acceptMaxBackoff {
		p.backoff = acceptMaxBackoff
	}
	p.r.logAcceptError(p.addr, err, shed, now.Sub(p.failingSince))
	p.waiting = true
	if !listenEdge {
		_ = p.l.poller.Delete(p.fd) // a level-triggered listener would spin
	}
	time.AfterFunc(p.backoff, func() {
		_ = p.l.submit(func() {
			p.waiting = false
			if p.l.ports[p.fd] != p {
				return // stopped meanwhile
			}
			if !listenEdge {
				if err := p.l.poller.AddRead(&netpoll.PollAttachment{FD: p.fd}, false); err != nil {
					p.r.log.Error().Err(err).Stringer("addr", p.addr).Msg("could not watch the listening socket again")
					return
				}
			}
			p.acceptReady()
		})
	})
}

// shed accepts and closes waiting connections with the reserved descriptor
// (Twisted's and libev's trick: close the spare, accept, close, reopen). It
// returns how many it shed. Loop goroutine.
func (l *loop) shed(lfd int) int {
	n := 0
	for n < maxShed {
		if l.spare < 0 {
			if l.spare = openReserve(); l.spare < 0 {
				return n
			}
		}
		unix.Close(l.spare)
		nfd, _, err := socket.Accept(lfd)
		if err == nil {
			unix.Close(nfd)
			n++
		}
		l.spare = openReserve()
		if err != nil {
			return n
		}
	}
	return n
}

// logAcceptError logs a failed accept at most once a second per reactor.
func (r *Reactor) logAcceptError(addr net.Addr, err error, shed int, since time.Duration) {
	now := time.Now().UnixNano()
	last := r.acceptLogged.Load()
	if now-last < int64(time.Second) || !r.acceptLogged.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn().Err(os.NewSyscallError("accept", err)).Stringer("addr", addr).Int("shed", shed).Dur("failing_for", since).Msg("accept failed; backing off")
}

func openReserve() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// accepted gives a new connection to the loop with the fewest connections.
// Loop goroutine of p.
func (r *Reactor) accepted(p *Port, fd int, sa unix.Sockaddr) {
	var remote net.Addr
	if p.unix != nil {
		remote = unixPeer(fd, sa)
	} else {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		remote = sockaddrToTCP(sa)
	}
	p.accepted.Add(1)
	p.l.st.accepted.Add(1)
	l := r.pickLoop(p.l)
	l.nconns.Add(1)
	r.connStart()
	c := newConn(l, p, fd, remote)
	if l == p.l {
		l.openConn(c)
		return
	}
	if err := l.trigger(l.openTask, c); err != nil {
		// That loop is stopping: keep the connection here.
		l.nconns.Add(-1)
		p.l.nconns.Add(1)
		c.l = p.l
		p.l.openConn(c)
	}
}

// pickLoop returns the loop with the fewest connections and connect
// attempts in progress, home on a tie.
func (r *Reactor) pickLoop(home *loop) *loop {
	best, load := home, home.load()
	for _, l := range r.loops {
		if n := l.load(); n < load {
			best, load = l, n
		}
	}
	return best
}

// load is what balancing counts of a loop: its connections and the connect
// attempts asked of it that have not ended (a burst of connectors made at
// once spreads over the loops before any of them connected). Any goroutine.
func (l *loop) load() int64 { return l.nconns.Load() + l.dialing.Load() }

// sockaddrToAddr converts a socket's own address: TCP or UNIX.
func sockaddrToAddr(sa unix.Sockaddr) net.Addr {
	if su, ok := sa.(*unix.SockaddrUnix); ok {
		return &net.UnixAddr{Name: su.Name, Net: "unix"}
	}
	return sockaddrToTCP(sa)
}

// sockaddrToTCP converts an accepted or bound address; the IP is copied, so
// the Sockaddr is not kept alive.
func sockaddrToTCP(sa unix.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ip := make(net.IP, net.IPv4len)
		copy(ip, sa.Addr[:])
		return &net.TCPAddr{IP: ip, Port: sa.Port}
	case *unix.SockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, sa.Addr[:])
		a := &net.TCPAddr{IP: ip, Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			} else {
				a.Zone = strconv.Itoa(int(sa.ZoneId))
			}
		}
		return a
	}
	return &net.TCPAddr{}
}
