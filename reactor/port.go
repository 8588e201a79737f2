package reactor

import (
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
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

// Port is a listening TCP socket: Twisted's IListeningPort.
type Port struct {
	r        *Reactor
	f        factory.Factory
	fd       int
	addr     net.Addr
	wildcard bool  // bound to the unspecified address
	l        *loop // the loop that accepts for it

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
// connections TCP_NODELAY (Nagle off, as Go's net does). The factory's
// StartFactory runs here, on the calling goroutine, if this is its first
// port. Any goroutine.
func (r *Reactor) ListenTCP(addr string, f factory.Factory) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: ListenTCP with a nil factory")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return nil, ErrStopped
	}
	fd, err := r.listenSocket(addr)
	if err != nil {
		return nil, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	ta := sockaddrToTCP(sa)
	p := &Port{r: r, f: f, fd: fd, addr: ta, wildcard: ta.IP.IsUnspecified(), done: make(chan struct{})}
	if err := r.factoryStart(f); err != nil {
		unix.Close(fd)
		return nil, err
	}
	r.ports[p] = struct{}{}
	p.l = r.loops[r.nextPort%len(r.loops)]
	r.nextPort++
	if r.running { // else Run registers it, once every loop runs
		if err := p.l.submit(p.register); err != nil {
			delete(r.ports, p)
			unix.Close(fd)
			return nil, ErrStopped
		}
	}
	r.log.Debug().Stringer("addr", p.addr).Int("loop", p.l.idx).Msg("listening")
	return p, nil
}

// listenSocket creates the listening socket with gnet's socket package.
func (r *Reactor) listenSocket(addr string) (int, error) {
	type opt = socket.Option[int]
	opts := []opt{{SetSockOpt: socket.SetReuseAddr, Opt: 1}}
	if r.cfg.reusePort {
		opts = append(opts, opt{SetSockOpt: socket.SetReuseport, Opt: 1})
	}
	if r.cfg.readBuffer > 0 {
		opts = append(opts, opt{SetSockOpt: socket.SetRecvBuffer, Opt: r.cfg.readBuffer})
	}
	if r.cfg.writeBuffer > 0 {
		opts = append(opts, opt{SetSockOpt: socket.SetSendBuffer, Opt: r.cfg.writeBuffer})
	}
	// Keep-alive is set once on the listening socket, which accepted sockets
	// inherit, instead of on every accepted one.
	idle, interval, count := 15*time.Second, 15*time.Second, 9 // Go's defaults
	if r.cfg.keepAliveSet {
		idle, interval, count = r.cfg.keepAlive, r.cfg.keepInterval, r.cfg.keepCount
	}
	opts = append(opts, opt{SetSockOpt: func(fd, _ int) error { return setKeepAlive(fd, idle, interval, count) }})
	fd, _, err := socket.TCPSocket("tcp", addr, true, opts, nil)
	if err != nil {
		return -1, err
	}
	if r.cfg.backlog > 0 {
		if err := unix.Listen(fd, r.cfg.backlog); err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("listen", err)
		}
	}
	return fd, nil
}

// factoryStart and factoryStop keep Twisted's doStart/doStop count per factory.
// Called with r.mu held.
func (r *Reactor) factoryStart(f factory.Factory) (err error) {
	n := r.factories[f]
	r.factories[f] = n + 1
	if n > 0 {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			pe := newPanicError(v)
			r.logPanic("StartFactory", pe, nil)
			delete(r.factories, f)
			err = pe
		}
	}()
	f.StartFactory()
	return nil
}

func (r *Reactor) factoryStop(f factory.Factory) {
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
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	l := r.pickLoop(p.l)
	l.nconns.Add(1)
	r.connStart()
	c := newConn(l, p, fd, sockaddrToTCP(sa))
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

// pickLoop returns the loop with the fewest connections, home on a tie.
func (r *Reactor) pickLoop(home *loop) *loop {
	best := home
	for _, l := range r.loops {
		if l.nconns.Load() < best.nconns.Load() {
			best = l
		}
	}
	return best
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
