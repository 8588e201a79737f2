package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/transport"
)

// Accept back-off after a failed accept (EMFILE and the like).
const (
	acceptFirstBackoff = 5 * time.Millisecond
	acceptMaxBackoff   = 500 * time.Millisecond
)

// Port is a listening TCP socket: Twisted's IListeningPort.
type Port struct {
	r    *Reactor
	f    factory.Factory
	ln   *net.TCPListener
	addr net.Addr

	mu        sync.Mutex
	accepting bool
	stopped   bool
	closing   chan struct{}
	done      chan struct{}
	inflight  sync.WaitGroup
}

type handoff struct {
	c *net.TCPConn
	p *Port
	// near is closed by the enroll worker once it handed c over; set when c's
	// descriptor is near RLIMIT_NOFILE (see enrollWorker).
	near chan struct{}
}

// ListenTCP binds addr ("host:port"; port 0 picks a free one) and serves it
// with f: Twisted's listenTCP. It works before Run (connections are accepted
// once Run starts) and while the reactor runs. The factory's StartFactory runs
// here, on the calling goroutine, if this is its first port. Any goroutine.
func (r *Reactor) ListenTCP(addr string, f factory.Factory) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: ListenTCP with a nil factory")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return nil, ErrStopped
	}
	// Keep-alive is set once on the listening socket, which accepted sockets
	// inherit on Linux, instead of by Go on every accepted one (four
	// setsockopt calls per connection).
	lc := net.ListenConfig{Control: r.listenControl, KeepAlive: -1}
	nl, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	ln := nl.(*net.TCPListener)
	if r.cfg.backlog > 0 {
		if err := setBacklog(ln, r.cfg.backlog); err != nil {
			ln.Close()
			return nil, err
		}
	}
	p := &Port{r: r, f: f, ln: ln, addr: ln.Addr(), closing: make(chan struct{}), done: make(chan struct{})}
	if err := r.factoryStart(f); err != nil {
		ln.Close()
		return nil, err
	}
	r.ports[p] = struct{}{}
	if r.running {
		p.startAccepting()
	}
	r.log.Debug().Stringer("addr", p.addr).Msg("listening")
	return p, nil
}

func (r *Reactor) listenControl(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		s := int(fd)
		if r.cfg.reusePort {
			if serr = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
				return
			}
		}
		if r.cfg.readBuffer > 0 {
			if serr = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_RCVBUF, r.cfg.readBuffer); serr != nil {
				return
			}
		}
		if r.cfg.writeBuffer > 0 {
			if serr = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_SNDBUF, r.cfg.writeBuffer); serr != nil {
				return
			}
		}
		idle, interval, count := 15*time.Second, 15*time.Second, 9 // Go's defaults
		if r.cfg.keepAliveSet {
			idle, interval, count = r.cfg.keepAlive, r.cfg.keepInterval, r.cfg.keepCount
		}
		if err := setKeepAlive(s, idle, interval, count); err != nil {
			serr = err
		}
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("reactor: listening socket options: %w", serr)
	}
	return nil
}

// setBacklog calls listen(2) again: Linux updates the backlog of a listening socket.
func setBacklog(ln *net.TCPListener, backlog int) error {
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	return os.NewSyscallError("listen", lerr)
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

// StopListening closes the listening socket and waits until the port's accept
// loop and its connections in hand-off are done; connections already open stay
// open. If this was the factory's last port, StopFactory runs on the calling
// goroutine. Called on one of the reactor's loops (from a callback), it closes
// the socket and returns at once; the waiting and StopFactory go on in the
// background, since hand-offs may need that loop. Calling it again does
// nothing. Any goroutine.
func (p *Port) StopListening() error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil
	}
	p.stopped = true
	accepting := p.accepting
	close(p.closing)
	p.mu.Unlock()

	err := p.ln.Close()
	if p.r.onLoop() {
		go p.finishStop(accepting)
		return err
	}
	p.finishStop(accepting)
	return err
}

func (p *Port) finishStop(accepting bool) {
	if accepting {
		<-p.done
	}
	p.inflight.Wait()
	p.r.mu.Lock()
	delete(p.r.ports, p)
	p.r.mu.Unlock()
	p.r.factoryStop(p.f)
	p.r.log.Debug().Stringer("addr", p.addr).Msg("stopped listening")
}

// startAccepting starts the accept loop. Called with r.mu held.
func (p *Port) startAccepting() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.accepting {
		return
	}
	p.accepting = true
	go p.acceptLoop()
}

func (p *Port) acceptLoop() {
	defer close(p.done)
	backoff := time.Duration(0)
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.r.readFDLimit()
			if backoff == 0 {
				backoff = acceptFirstBackoff
			} else if backoff *= 2; backoff > acceptMaxBackoff {
				backoff = acceptMaxBackoff
			}
			p.r.log.Warn().Err(err).Stringer("addr", p.addr).Dur("backoff", backoff).Msg("accept failed; backing off")
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.closing:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		p.inflight.Add(1)
		p.r.connStart()
		h := handoff{c: c, p: p}
		if p.r.nearFDLimit(c) {
			// Accept nothing until the worker has enrolled c: the descriptor
			// its reserve frees must go to Enroll's dup, not to our next accept.
			h.near = make(chan struct{})
		}
		p.r.handoff <- h
		if h.near != nil {
			<-h.near
		}
	}
}

// enrollWorker hands accepted connections to a loop. gnet's Enroll duplicates
// the descriptor, so each worker keeps one descriptor in reserve and, when the
// accepted descriptor is near the limit, gives it up for the duplicate (the
// accept loop waits meanwhile, so that the freed slot goes to the duplicate):
// running out of descriptors makes accept fail and back off, not drop
// connections already accepted.
func (r *Reactor) enrollWorker() {
	defer r.workersWG.Done()
	reserve := openReserve()
	for h := range r.handoff {
		if reserve >= 0 && h.near != nil {
			unix.Close(reserve)
			reserve = -1
		}
		r.enroll(h)
		if reserve < 0 {
			reserve = openReserve()
		}
		if h.near != nil {
			close(h.near)
		}
	}
	if reserve >= 0 {
		unix.Close(reserve)
	}
}

// nearFDLimit reports whether c's descriptor is close to RLIMIT_NOFILE: the
// kernel hands out the lowest free descriptor, so a high one means few are
// left, and Enroll's dup may need the reserve.
func (r *Reactor) nearFDLimit(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return true
	}
	fd := 0
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil {
		return true
	}
	return uint64(fd)+64 >= r.fdLimit.Load()
}

// readFDLimit caches RLIMIT_NOFILE's soft limit (at Run, and again after each
// failed accept, in case it changed).
func (r *Reactor) readFDLimit() {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		lim.Cur = 0 // unknown: always use the reserve
	}
	r.fdLimit.Store(lim.Cur)
}

func openReserve() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

func (r *Reactor) enroll(h handoff) {
	defer h.p.inflight.Done()
	l := r.pickLoop()
	l.nconns.Add(1)
	c := newConn(l, &h.p.f, h.c.LocalAddr(), h.c.RemoteAddr())
	_, err := l.cli.EnrollContext(h.c, c) // closes h.c
	if err != nil || !c.opened() {
		l.nconns.Add(-1)
		r.connDone()
		if err == nil {
			err = transport.ErrClosed
		}
		r.log.Warn().Err(err).Stringer("peer", c.remote).Msg("could not hand connection to a loop; dropped")
	}
}

// pickLoop returns the loop with the fewest connections.
func (r *Reactor) pickLoop() *loop {
	best := r.loops[0]
	for _, l := range r.loops[1:] {
		if l.nconns.Load() < best.nconns.Load() {
			best = l
		}
	}
	return best
}
