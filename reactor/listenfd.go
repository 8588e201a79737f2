package reactor

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
)

// ErrNotListening is returned by ListenFile when the file is not a
// listening stream socket.
var ErrNotListening = errors.New("reactor: not a listening stream socket")

// ListenFile serves the listening TCP or UNIX stream socket f with fac:
// Twisted's adoptStreamPort. It is how a process serves a socket it was
// handed rather than one it bound: inherited from the process it replaces
// (a zero-downtime restart: package cli uses it with tableflip), or passed
// over a UNIX socket. f is typically what (*net.TCPListener).File or
// (*net.UnixListener).File returns, or an inherited descriptor wrapped by
// os.NewFile.
//
// The port works on a duplicate of f's descriptor, made close-on-exec, so
// the caller may close f (and the listener it came from) at once, and
// StopListening closes only the duplicate: the socket stays open wherever
// else it is, and a UNIX socket's file is left in place. A duplicate shares
// the socket's blocking mode with every other descriptor of it, in this
// process and others: ListenFile puts it in non-blocking mode, which a
// reactor needs; do not call f.Fd() afterwards (the os package switches the
// socket back to blocking mode for it), use f.SyscallConn instead.
//
// opts override the reactor's options for this port's connections, as with
// ListenTCP. Of the listening socket's own options, a WithBacklog is applied
// by listening again with that backlog, the TCP keep-alive settings and
// kernel buffer sizes are set on the socket for the connections it accepts
// (as ListenTCP does), and WithReusePort and WithUnixLock have no effect:
// the socket is bound already. A file that is not a listening stream socket
// gives an error wrapping [ErrNotListening]. As with ListenTCP,
// StartFactory runs here if this is the factory's first port, and the port
// works before Run. Any goroutine.
func (r *Reactor) ListenFile(f *os.File, fac factory.Factory, opts ...Option) (*Port, error) {
	if fac == nil {
		return nil, errors.New("reactor: ListenFile with a nil factory")
	}
	if f == nil {
		return nil, errors.New("reactor: ListenFile with a nil file")
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	fd, err := dupFile(f)
	if err != nil {
		return nil, err
	}
	p, err := r.listen(fac, cfg, func() (int, net.Addr, *unixListen, error) {
		addr, err := adoptListener(fd, f.Name(), cfg)
		if err != nil {
			return -1, nil, nil, err
		}
		// The socket's file (for a UNIX socket) belongs to whoever bound
		// it: no unixListen, so StopListening leaves it.
		return fd, addr, nil, nil
	})
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return p, nil
}

// dupFile duplicates f's descriptor, close-on-exec, without f.Fd() (which
// would put the socket in blocking mode).
func dupFile(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("reactor: ListenFile %s: %w", f.Name(), err)
	}
	nfd := -1
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		nfd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, fmt.Errorf("reactor: ListenFile %s: %w", f.Name(), err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("reactor: ListenFile %s: %w", f.Name(), os.NewSyscallError("fcntl", dupErr))
	}
	return nfd, nil
}

// adoptListener checks that fd is a listening stream socket, makes it
// non-blocking, applies the options that can still apply, and returns its
// address.
func adoptListener(fd int, name string, cfg *config) (net.Addr, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotListening, name, err)
	}
	if typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("%w: %s is not a stream socket", ErrNotListening, name)
	}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
		return nil, fmt.Errorf("%w: %s is not listening", ErrNotListening, name)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, os.NewSyscallError("getsockname", err)
	}
	var tcp bool
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		tcp = true
	case *unix.SockaddrUnix:
	default:
		return nil, fmt.Errorf("%w: %s is neither TCP nor UNIX", ErrNotListening, name)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	for _, o := range bufferOpts(cfg)[1:] { // not SO_REUSEADDR: it is bound
		if err := o.SetSockOpt(fd, o.Opt); err != nil {
			return nil, fmt.Errorf("reactor: ListenFile %s: %w", name, err)
		}
	}
	if tcp {
		o := keepAliveOpt(cfg)
		if err := o.SetSockOpt(fd, o.Opt); err != nil {
			return nil, fmt.Errorf("reactor: ListenFile %s: %w", name, err)
		}
	}
	if cfg.backlog > 0 {
		if err := unix.Listen(fd, cfg.backlog); err != nil {
			return nil, os.NewSyscallError("listen", err)
		}
	}
	return sockaddrToAddr(sa), nil
}
