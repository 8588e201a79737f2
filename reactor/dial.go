package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/socket"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// attempt is one connect attempt of a Connector: name lookup, then a
// non-blocking connect to each address in turn until one succeeds. Loop
// goroutine only, except where said.
type attempt struct {
	c       *Connector
	fd      int      // the socket being connected, or -1
	remote  net.Addr // its destination
	addrs   []net.IPAddr
	next    int
	first   error // the first address's error: the one reported
	timer   *time.Timer
	stopCtx func() bool        // unregisters the ctx watch
	lookup  context.CancelFunc // cancels a name lookup in progress
	done    bool
}

func newAttempt(c *Connector) *attempt { return &attempt{c: c, fd: -1} }

// start arms the timeout and the ctx watch, then looks the name up or
// connects.
func (a *attempt) start() {
	c := a.c
	if err := c.ctx.Err(); err != nil {
		a.fail(&ConnectError{Addr: c.addrString(), Kind: transport.ErrUserCancelled, Err: err})
		return
	}
	a.timer = time.AfterFunc(c.cfg.connectTimeout, func() {
		_ = c.l.submit(func() {
			if !a.done {
				a.fail(c.timeoutError())
			}
		})
	})
	if c.ctx.Done() != nil {
		a.stopCtx = context.AfterFunc(c.ctx, func() {
			_ = c.l.submit(func() {
				if !a.done {
					a.fail(&ConnectError{Addr: c.addrString(), Kind: transport.ErrUserCancelled, Err: c.ctx.Err()})
				}
			})
		})
	}
	if c.network == "unix" {
		a.connectUnix()
		return
	}
	if ip := parseIP(c.host); ip != nil {
		a.addrs = []net.IPAddr{*ip}
		a.tryNext()
		return
	}
	a.resolve()
}

// resolve looks the host up on a goroutine of its own (a slow resolver must
// not take the worker pool's goroutines), bounded by the attempt.
func (a *attempt) resolve() {
	c := a.c
	ctx, cancel := context.WithCancel(c.ctx)
	a.lookup = cancel
	host, network := c.host, c.network
	go func() {
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		_ = c.l.submit(func() { a.resolved(ips, err, network) })
	}()
}

// resolved goes on with the addresses found. Loop goroutine.
func (a *attempt) resolved(ips []net.IPAddr, err error, network string) {
	if a.done {
		return
	}
	a.lookup()
	a.lookup = nil
	c := a.c
	if err == nil {
		for _, ip := range ips {
			v4 := ip.IP.To4() != nil
			if network == "tcp" || network == "tcp4" && v4 || network == "tcp6" && !v4 {
				a.addrs = append(a.addrs, ip)
			}
		}
		if len(a.addrs) == 0 {
			err = fmt.Errorf("no %s address for %s", network, c.host)
		}
	}
	if err != nil {
		a.fail(&ConnectError{Addr: c.addrString(), Kind: transport.ErrDNSLookup, Err: err})
		return
	}
	a.tryNext()
}

// tryNext connects to the next address, or fails with the first error when
// none is left.
func (a *attempt) tryNext() {
	c := a.c
	for a.next < len(a.addrs) {
		ip := a.addrs[a.next]
		a.next++
		remote := &net.TCPAddr{IP: ip.IP, Port: c.port, Zone: ip.Zone}
		opts := append(bufferOpts(c.cfg)[1:], keepAliveOpt(c.cfg),
			socket.Option[int]{SetSockOpt: socket.SetNoDelay, Opt: 1})
		if c.cfg.bindAddress != "" {
			opts = append(opts, socket.Option[int]{SetSockOpt: func(fd, _ int) error {
				return bindTCP(fd, c.cfg.bindAddress, ip.IP.To4() != nil)
			}})
		}
		fd, _, err := socket.TCPSocket("tcp", remote.String(), false, opts, nil)
		if a.dialed(fd, remote, err) {
			return
		}
	}
	a.fail(a.first)
}

// connectUnix connects to the connector's UNIX path.
func (a *attempt) connectUnix() {
	c := a.c
	if c.cfg.unixLock && !strings.HasPrefix(c.path, "@") && !lockHeld(c.path+".lock") {
		a.fail(&ConnectError{Addr: c.path, Kind: transport.ErrConnectFailed,
			Err: fmt.Errorf("no live process holds %s.lock", c.path)})
		return
	}
	var opts []socket.Option[int]
	if c.cfg.bindAddress != "" {
		opts = append(opts, socket.Option[int]{SetSockOpt: func(fd, _ int) error {
			return os.NewSyscallError("bind", unix.Bind(fd, &unix.SockaddrUnix{Name: c.cfg.bindAddress}))
		}})
	}
	opts = append(opts, bufferOpts(c.cfg)[1:]...)
	fd, _, err := socket.UnixSocket("unix", c.path, false, opts, nil)
	if !a.dialed(fd, c.dest, err) {
		a.fail(a.first)
	}
}

// dialed handles the outcome of a non-blocking connect: connected at once,
// in progress (the socket waits in the poller), or failed. It reports
// whether the attempt goes on without trying another address.
func (a *attempt) dialed(fd int, remote net.Addr, err error) bool {
	c := a.c
	switch {
	case err == nil:
		a.finish()
		c.att = nil
		c.connected(fd, remote, false)
		return true
	case errors.Is(err, unix.EINPROGRESS):
		if perr := c.l.poller.AddReadWrite(&netpoll.PollAttachment{FD: fd}, true); perr != nil {
			unix.Close(fd)
			a.note(os.NewSyscallError("epoll_ctl", perr))
			return false
		}
		a.fd = fd
		a.remote = remote
		c.l.addOther(fd, a)
		return true
	}
	a.note(err)
	return false
}

// note records the error of one address.
func (a *attempt) note(err error) {
	if a.first == nil {
		a.first = classify(a.c.addrString(), err)
	}
}

// ready handles the poller's event for the socket being connected: SO_ERROR
// says how the connect ended. Loop goroutine, inside a dispatch.
func (a *attempt) ready(ev netpoll.IOEvent, flags netpoll.IOFlags) {
	if a.done || a.fd < 0 {
		return
	}
	fd := a.fd
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno == 0 {
		if _, perr := unix.Getpeername(fd); perr != nil {
			return // not connected yet: a spurious event
		}
		a.release(false)
		a.finish()
		a.c.att = nil
		a.c.connected(fd, a.remote, true)
		return
	}
	if err == nil {
		err = unix.Errno(errno)
	}
	a.release(true)
	a.note(os.NewSyscallError("connect", err))
	a.tryNext()
}

// shut closes the socket when the loop stops with the attempt in progress.
// Loop goroutine.
func (a *attempt) shut() {
	if !a.done {
		a.c.l.dialing.Add(-1)
	}
	a.done = true
	a.release(true)
}

// release takes the socket out of the loop's other descriptors: closed, or
// kept (registered with the poller) for the connection made from it.
func (a *attempt) release(closeIt bool) {
	if a.fd < 0 {
		return
	}
	l := a.c.l
	l.removeOther(a.fd)
	if closeIt {
		_ = l.poller.Delete(a.fd)
		unix.Close(a.fd)
	}
	a.fd = -1
}

// finish stops the attempt's timer, ctx watch and lookup, and closes its
// socket if it has one. Loop goroutine.
func (a *attempt) finish() {
	if a.done {
		return
	}
	a.done = true
	a.c.l.dialing.Add(-1)
	delete(a.c.l.attempts, a)
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.stopCtx != nil {
		a.stopCtx()
	}
	if a.lookup != nil {
		a.lookup()
	}
	a.release(true)
}

// fail ends the attempt with reason. Loop goroutine.
func (a *attempt) fail(reason error) {
	a.finish()
	if reason == nil {
		reason = &ConnectError{Addr: a.c.addrString(), Kind: transport.ErrConnectFailed}
	}
	a.c.failed(a, reason)
}

// classify turns a connect error into a ConnectError of the right kind.
func classify(addr string, err error) error {
	kind := transport.ErrConnectFailed
	switch {
	case errors.Is(err, unix.ECONNREFUSED):
		kind = transport.ErrConnectionRefused
	case errors.Is(err, unix.ETIMEDOUT):
		kind = transport.ErrTimeout
	case errors.Is(err, unix.EHOSTUNREACH), errors.Is(err, unix.ENETUNREACH):
		kind = transport.ErrNoRoute
	}
	return &ConnectError{Addr: addr, Kind: kind, Err: err}
}

// bindTCP binds fd to WithBindAddress's "host" or "host:port" (an address
// literal: no name lookup on a loop).
func bindTCP(fd int, addr string, v4 bool) error {
	host, port := addr, 0
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host = h
		if port, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("bind address %q: bad port", addr)
		}
	}
	var ip net.IP
	if host != "" {
		if ip = net.ParseIP(host); ip == nil {
			return fmt.Errorf("bind address %q: not an IP address", addr)
		}
	}
	var sa unix.Sockaddr
	switch {
	case v4 && (ip == nil || ip.To4() != nil):
		s := &unix.SockaddrInet4{Port: port}
		if ip != nil {
			copy(s.Addr[:], ip.To4())
		}
		sa = s
	case !v4 && (ip == nil || ip.To4() == nil):
		s := &unix.SockaddrInet6{Port: port}
		if ip != nil {
			copy(s.Addr[:], ip.To16())
		}
		sa = s
	default:
		return fmt.Errorf("bind address %q: not the destination's address family", addr)
	}
	return os.NewSyscallError("bind", unix.Bind(fd, sa))
}
