package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/tlsproto"
)

// ErrNoSystemdSocket is returned by Listen for a systemd: endpoint when the
// process was not given that socket (LISTEN_FDS, LISTEN_PID and
// LISTEN_FDNAMES, as systemd's socket activation sets them).
var ErrNoSystemdSocket = errors.New("reactor: no such socket passed by systemd")

// Listen listens on an endpoint string (Twisted's serverFromString syntax,
// read by endpoint.ParseServer: "tcp:8080", "tcp:0:interface=127.0.0.1",
// "tcp6:8080:interface=\:\:1", "unix:/run/app.sock:mode=660",
// "systemd:domain=INET:index=0", "ssl:443:privateKey=key.pem:certKey=cert.pem"
// (ListenTLS with the files it names, read now), or a plain "host:port"; any
// stream one after "haproxy:", such as "haproxy:tcp:8080", for connections
// that start with a PROXY protocol header) and serves it with f. opts apply
// first, then the options the string gives (backlog=,
// reuseport=, idle=, stall=, maxwrite=, lockfile=), which override them for
// this port. A udp: endpoint needs a datagram protocol, not a factory: use
// ListenUDP. Any goroutine.
func (r *Reactor) Listen(desc string, f factory.Factory, opts ...Option) (*Port, error) {
	s, err := endpoint.ParseServer(desc)
	if err != nil {
		return nil, err
	}
	return r.ListenEndpoint(s, f, opts...)
}

// ListenEndpoint is Listen with a parsed endpoint. An endpoint with HAProxy
// set serves f behind haproxy.Wrap: its protocols are built once each
// connection's PROXY header is read, with the client's address. Any
// goroutine.
func (r *Reactor) ListenEndpoint(s endpoint.Server, f factory.Factory, opts ...Option) (*Port, error) {
	if s.HAProxy && f != nil {
		s.HAProxy = false
		if s.Kind == endpoint.SSL {
			// HAProxy sends its header in the clear, then the client's
			// TLS: the PROXY wrapper outside, TLS inside it, on plain TCP.
			cfg, err := s.TLSConfig()
			if err != nil {
				return nil, fmt.Errorf("reactor: %s: %w", s, err)
			}
			if err := checkServerTLS(cfg); err != nil {
				return nil, err
			}
			pcfg, err := r.cfg.derive(opts)
			if err != nil {
				return nil, err
			}
			tf := tlsproto.NewFactory(f, cfg, true, r.tlsOptions(pcfg))
			s.Kind, s.Network = endpoint.TCP, "tcp"
			return r.ListenEndpoint(s, haproxy.Wrap(tf), opts...)
		}
		return r.ListenEndpoint(s, haproxy.Wrap(f), opts...)
	}
	opts = append(opts[:len(opts):len(opts)], serverOptions(s)...)
	switch s.Kind {
	case endpoint.TCP:
		return r.ListenTCP(s.Addr, f, opts...)
	case endpoint.TCP6:
		return r.listenTCPNetwork("tcp6", s.Addr, f, opts)
	case endpoint.UNIX:
		return r.ListenUnix(s.Path, f, s.Mode, opts...)
	case endpoint.Systemd:
		return r.listenSystemd(s, f, opts)
	case endpoint.SSL:
		cfg, err := s.TLSConfig()
		if err != nil {
			return nil, fmt.Errorf("reactor: %s: %w", s, err)
		}
		return r.ListenTLS(s.Addr, f, cfg, opts...)
	case endpoint.UDP:
		return nil, fmt.Errorf("reactor: %s: %w: a udp endpoint takes a datagram protocol (ListenUDP), not a factory", s, endpoint.ErrUnsupported)
	}
	return nil, fmt.Errorf("reactor: %s: %w", s, endpoint.ErrUnsupported)
}

// serverOptions turns the port options of an endpoint string into Options.
func serverOptions(s endpoint.Server) []Option {
	var opts []Option
	if s.Backlog > 0 {
		opts = append(opts, WithBacklog(s.Backlog))
	}
	if s.ReusePort {
		opts = append(opts, WithReusePort(true))
	}
	if s.ReadIdleTimeout > 0 {
		opts = append(opts, WithReadIdleTimeout(s.ReadIdleTimeout))
	}
	if s.WriteStallTimeout > 0 {
		opts = append(opts, WithWriteStallTimeout(s.WriteStallTimeout))
	}
	if s.MaxWriteBuffer > 0 {
		opts = append(opts, WithMaxWriteBuffer(s.MaxWriteBuffer))
	}
	if s.SendBuffer > 0 {
		opts = append(opts, WithWriteBufferSize(s.SendBuffer))
	}
	if s.ReceiveBuffer > 0 {
		opts = append(opts, WithReadBufferSize(s.ReceiveBuffer))
	}
	if s.Kind == endpoint.UNIX {
		opts = append(opts, WithUnixLock(s.Lockfile))
	}
	return opts
}

// Connect connects to an endpoint string (Twisted's clientFromString
// syntax, read by endpoint.ParseClient: "tcp:host=example.com:port=80:timeout=5",
// "tcp:example.com:80", "unix:path=/run/app.sock:checkPID=1",
// "tls:example.com:443:trustRoots=ca.pem", or a plain "host:port") with cf,
// as ConnectTCP, ConnectUnix or ConnectTLS (with the files it names, read
// now) does. opts apply
// first, then the string's timeout=, bindAddress= and checkPID=. Any
// goroutine.
func (r *Reactor) Connect(ctx context.Context, desc string, cf factory.ClientFactory, opts ...Option) (*Connector, error) {
	c, err := endpoint.ParseClient(desc)
	if err != nil {
		return nil, err
	}
	return r.ConnectEndpoint(ctx, c, cf, opts...)
}

// ConnectEndpoint is Connect with a parsed endpoint. Any goroutine.
func (r *Reactor) ConnectEndpoint(ctx context.Context, c endpoint.Client, cf factory.ClientFactory, opts ...Option) (*Connector, error) {
	opts = opts[:len(opts):len(opts)]
	if c.Timeout > 0 {
		opts = append(opts, WithConnectTimeout(c.Timeout))
	}
	if c.BindAddress != "" {
		opts = append(opts, WithBindAddress(c.BindAddress))
	}
	switch c.Kind {
	case endpoint.TCP:
		return r.ConnectTCP(ctx, c.Addr, cf, opts...)
	case endpoint.UNIX:
		if c.CheckPID {
			opts = append(opts, WithUnixLock(true))
		}
		return r.ConnectUnix(ctx, c.Path, cf, opts...)
	case endpoint.TLS:
		cfg, err := c.TLSConfig()
		if err != nil {
			return nil, fmt.Errorf("reactor: %s: %w", c, err)
		}
		return r.ConnectTLS(ctx, c.Addr, cf, cfg, opts...)
	}
	return nil, fmt.Errorf("reactor: %s: %w", c, endpoint.ErrUnsupported)
}

// listenTCPNetwork is ListenTCP for "tcp6" (IPv6 only).
func (r *Reactor) listenTCPNetwork(network, addr string, f factory.Factory, opts []Option) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: listen with a nil factory")
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	return r.listen(f, cfg, func() (int, net.Addr, *unixListen, error) {
		fd, err := listenTCPSocketOn(network, addr, cfg)
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

// listenSystemd serves a listening socket that systemd passed (socket
// activation): LISTEN_PID must be this process, LISTEN_FDS counts the
// sockets from descriptor 3, LISTEN_FDNAMES names them.
func (r *Reactor) listenSystemd(s endpoint.Server, f factory.Factory, opts []Option) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: listen with a nil factory")
	}
	fd, err := systemdSocket(s)
	if err != nil {
		return nil, err
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	return r.listen(f, cfg, func() (int, net.Addr, *unixListen, error) {
		if err := checkSystemdSocket(fd, s); err != nil {
			return -1, nil, nil, err
		}
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			return -1, nil, nil, os.NewSyscallError("fcntl", err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return -1, nil, nil, os.NewSyscallError("getsockname", err)
		}
		// A UNIX socket's file belongs to systemd: no unixListen, so
		// StopListening leaves it.
		return fd, sockaddrToAddr(sa), nil, nil
	})
}

// systemdSocket finds the descriptor s names among those systemd passed.
func systemdSocket(s endpoint.Server) (int, error) {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return -1, fmt.Errorf("%w: %s: LISTEN_PID is not this process", ErrNoSystemdSocket, s)
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return -1, fmt.Errorf("%w: %s: LISTEN_FDS is not a positive number", ErrNoSystemdSocket, s)
	}
	const first = 3 // SD_LISTEN_FDS_START
	if s.Name != "" {
		names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
		for i, name := range names {
			if i < n && name == s.Name {
				return first + i, nil
			}
		}
		return -1, fmt.Errorf("%w: %s: no socket named %q in LISTEN_FDNAMES", ErrNoSystemdSocket, s, s.Name)
	}
	if s.Index >= n {
		return -1, fmt.Errorf("%w: %s: index %d, but LISTEN_FDS is %d", ErrNoSystemdSocket, s, s.Index, n)
	}
	return first + s.Index, nil
}

// checkSystemdSocket checks that fd is a listening stream socket of the
// endpoint's domain.
func checkSystemdSocket(fd int, s endpoint.Server) error {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fmt.Errorf("%w: %s: descriptor %d is not a socket: %v", ErrNoSystemdSocket, s, fd, err)
	}
	if typ != unix.SOCK_STREAM {
		return fmt.Errorf("%w: %s: descriptor %d is not a stream socket", ErrNoSystemdSocket, s, fd)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	var domain string
	switch sa.(type) {
	case *unix.SockaddrInet4:
		domain = "INET"
	case *unix.SockaddrInet6:
		domain = "INET6"
	case *unix.SockaddrUnix:
		domain = "UNIX"
	}
	// systemd's ListenStream=PORT makes a dual-stack IPv6 socket: INET
	// takes it too.
	if domain != s.Domain && !(s.Domain == "INET" && domain == "INET6") {
		return fmt.Errorf("%w: %s: descriptor %d is an %s socket", ErrNoSystemdSocket, s, fd, domain)
	}
	return nil
}
