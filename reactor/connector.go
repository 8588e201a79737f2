package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/transport"
)

// Connector is an outbound connection and its retries: Twisted's
// IConnector, returned by ConnectTCP and ConnectUnix. It implements
// factory.Connector. It lives on one of the reactor's loops: its factory's
// callbacks, its attempts and the connection it makes all run there.
//
// Every method is safe from any goroutine. On the connector's loop (from its
// callbacks) they take effect at once; from elsewhere they are queued to it.
type Connector struct {
	r       *Reactor
	l       *loop
	cf      factory.ClientFactory
	cfg     *config
	ctx     context.Context
	network string // "tcp", "tcp4", "tcp6" or "unix"
	host    string // tcp: the host as given
	port    int    // tcp
	path    string // unix
	dest    net.Addr
	sp      *Port // the stand-in port of its connections: factory, options, back-pointer

	// Loop goroutine only.
	state   connState
	started bool // holds one count of the factory's StartFactory
	att     *attempt
	conn    *conn
}

type connState uint8

const (
	csDisconnected connState = iota
	csConnecting
	csConnected
)

var _ factory.Connector = (*Connector)(nil)

// ConnectError is the reason a ClientFactory's ClientConnectionFailed gets
// when an attempt fails. It matches transport.ErrConnectFailed, its Kind
// (transport.ErrConnectionRefused, ErrTimeout, ErrDNSLookup, ErrNoRoute,
// ErrUserCancelled, or ErrConnectFailed itself when nothing more precise
// applies) and its Err under errors.Is. Any goroutine may read it.
type ConnectError struct {
	// Addr is the destination as given to ConnectTCP or ConnectUnix.
	Addr string
	// Kind is the class of failure (see above).
	Kind error
	// Err is the cause: a system call error, a resolver error, a context
	// error, or nil.
	Err error
}

// Error describes the failure. Any goroutine.
func (e *ConnectError) Error() string {
	msg := "reactor: connect to " + e.Addr + ": " + strings.TrimPrefix(e.Kind.Error(), "transport: ")
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns transport.ErrConnectFailed, Kind and Err. Any goroutine.
func (e *ConnectError) Unwrap() []error {
	errs := []error{transport.ErrConnectFailed}
	if e.Kind != transport.ErrConnectFailed {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ConnectTCP connects to addr ("host:port"; the host may be a name, looked
// up off the loop, or an address literal; the port a number or a service
// name) with cf: Twisted's connectTCP. It returns at once: the attempt runs
// on a loop (or, before Run, when Run starts), and cf hears how it ends
// (factory.ClientFactory). ctx bounds the attempts (name lookup and
// connect), not the connection once made: when ctx ends, an attempt in
// progress fails with transport.ErrUserCancelled wrapping ctx's error, and
// so does every later one. opts override the reactor's options for this
// connector's connections and add WithConnectTimeout (default 30 s) and
// WithBindAddress. It fails at once only for a malformed addr or after Stop
// began. Any goroutine.
func (r *Reactor) ConnectTCP(ctx context.Context, addr string, cf factory.ClientFactory, opts ...Option) (*Connector, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("reactor: ConnectTCP %q: %w", addr, err)
	}
	if host == "" {
		return nil, fmt.Errorf("reactor: ConnectTCP %q: no host", addr)
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("reactor: ConnectTCP %q: bad port %q", addr, portStr)
	}
	c := &Connector{network: "tcp", host: host, port: port}
	if ip := parseIP(host); ip != nil {
		c.dest = &net.TCPAddr{IP: ip.IP, Port: port, Zone: ip.Zone}
	} else {
		c.dest = &factory.HostAddr{Net: "tcp", Host: host, Port: port}
	}
	return r.connector(ctx, c, cf, opts)
}

// ConnectUnix connects to the UNIX socket path (a name starting with "@" is
// in Linux's abstract namespace) with cf: Twisted's connectUNIX. It behaves
// as ConnectTCP; the connection's RemoteAddr is a *net.UnixAddr with path.
// Any goroutine.
func (r *Reactor) ConnectUnix(ctx context.Context, path string, cf factory.ClientFactory, opts ...Option) (*Connector, error) {
	if path == "" || path == "@" {
		return nil, errors.New("reactor: ConnectUnix with an empty path")
	}
	c := &Connector{network: "unix", path: path, dest: &net.UnixAddr{Name: path, Net: "unix"}}
	return r.connector(ctx, c, cf, opts)
}

func (r *Reactor) connector(ctx context.Context, c *Connector, cf factory.ClientFactory, opts []Option) (*Connector, error) {
	if cf == nil {
		return nil, errors.New("reactor: connect with a nil factory")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	c.r, c.cf, c.cfg, c.ctx = r, cf, cfg, ctx
	c.sp = &Port{r: r, f: cf, cfg: cfg, addr: c.dest, wildcard: true, cn: c}
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return nil, ErrStopped
	}
	c.l = r.pickLoop(r.loops[r.nextConn%len(r.loops)])
	r.nextConn++
	r.mu.Unlock()
	c.Connect()
	return c, nil
}

// parseIP parses an address literal, with an optional IPv6 zone.
func parseIP(host string) *net.IPAddr {
	h, zone, _ := strings.Cut(host, "%")
	ip := net.ParseIP(h)
	if ip == nil {
		return nil
	}
	return &net.IPAddr{IP: ip, Zone: zone}
}

// Connect starts an attempt if the connector is disconnected: the first
// one, or a retry after a failure or a loss. It does nothing while an
// attempt is under way or a connection is up, or after Stop began. Any
// goroutine.
func (c *Connector) Connect() {
	c.l.dialing.Add(1) // counted out by connect, or when the attempt ends
	if c.l.onLoop() {
		c.connect()
	} else if c.l.submit(c.connect) != nil {
		c.l.dialing.Add(-1) // the loop stopped
	}
}

// Disconnect closes the connection (LoseConnection) or abandons the
// attempt in progress (as StopConnecting). Any goroutine.
func (c *Connector) Disconnect() {
	c.run(func() {
		switch c.state {
		case csConnecting:
			c.cancel(nil)
		case csConnected:
			c.conn.LoseConnection()
		}
	})
}

// StopConnecting abandons the attempt in progress: the factory gets
// ClientConnectionFailed with a reason matching transport.ErrUserCancelled.
// It does nothing when no attempt is in progress. Any goroutine.
func (c *Connector) StopConnecting() {
	c.run(func() {
		if c.state == csConnecting {
			c.cancel(nil)
		}
	})
}

// Destination returns where the connector connects: a *net.TCPAddr for an
// address literal, a *factory.HostAddr for a host name, a *net.UnixAddr for
// a UNIX socket. Any goroutine.
func (c *Connector) Destination() net.Addr { return c.dest }

// Clock returns the clock of the connector's loop (the loop its callbacks
// run on). Any goroutine.
func (c *Connector) Clock() transport.Clock { return c.l }

// run runs fn on the connector's loop: at once when called there, else
// queued.
func (c *Connector) run(fn func()) {
	if c.l.onLoop() {
		fn()
		return
	}
	_ = c.l.submit(fn)
}

// addrString is the destination as given.
func (c *Connector) addrString() string {
	if c.network == "unix" {
		return c.path
	}
	return net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

// connect starts an attempt. Loop goroutine.
func (c *Connector) connect() {
	if c.state != csDisconnected {
		c.l.dialing.Add(-1)
		return
	}
	r := c.r
	r.mu.Lock()
	stopping := r.stopping
	if !stopping && !c.started {
		if err := r.factoryStart(c.cf); err != nil {
			r.mu.Unlock()
			c.l.dialing.Add(-1)
			r.log.Warn().Str("addr", c.addrString()).Err(err).Msg("StartFactory failed; not connecting")
			return
		}
		c.started = true
	}
	r.mu.Unlock()
	if stopping {
		c.l.dialing.Add(-1)
		r.log.Debug().Str("addr", c.addrString()).Msg("reactor stopping; not connecting")
		return
	}
	c.state = csConnecting
	a := newAttempt(c)
	c.att = a
	c.l.attempts[a] = struct{}{}
	r.safeCall("StartedConnecting", func() { c.cf.StartedConnecting(c) })
	if c.att == a { // StartedConnecting did not stop it
		a.start()
	}
}

// connected makes the connection from the attempt's socket. Loop goroutine,
// inside a dispatch.
func (c *Connector) connected(fd int, remote net.Addr, registered bool) {
	l := c.l
	l.st.connected.Add(1)
	l.nconns.Add(1)
	c.r.connStart()
	cc := newConn(l, c.sp, fd, remote)
	if sa, err := unix.Getsockname(fd); err == nil {
		cc.local = sockaddrToAddr(sa) // now: after the close it could not be read
	}
	if registered {
		cc.lf |= fRegR | fRegW
	}
	l.addConn(cc)
	c.state = csConnected
	c.conn = cc
	if err := cc.setInterest(true, false); err != nil {
		cc.closeNow(transport.Lost(fmt.Errorf("register: %w", err)), false)
		return
	}
	cc.open()
}

// connLost is told by a connection of this connector that it closed: made
// says whether its protocol was made (else BuildProtocol refused it).
// Loop goroutine.
func (c *Connector) connLost(cc *conn, reason error, made bool) {
	if c.conn != cc {
		return
	}
	c.conn = nil
	c.state = csDisconnected
	if made {
		c.r.safeCall("ClientConnectionLost", func() { c.cf.ClientConnectionLost(c, reason) })
	} else {
		reason = &ConnectError{Addr: c.addrString(), Kind: transport.ErrConnectFailed, Err: reason}
		c.r.safeCall("ClientConnectionFailed", func() { c.cf.ClientConnectionFailed(c, reason) })
	}
	c.settle()
}

// failed ends the attempt in progress with reason. Loop goroutine.
func (c *Connector) failed(a *attempt, reason error) {
	if c.att != a {
		return
	}
	c.att = nil
	c.state = csDisconnected
	c.r.log.Debug().Str("addr", c.addrString()).AnErr("reason", reason).Msg("connect failed")
	c.r.safeCall("ClientConnectionFailed", func() { c.cf.ClientConnectionFailed(c, reason) })
	c.settle()
}

// settle stops the factory (by the ref-count) unless the callback that just
// ran connected again. Loop goroutine.
func (c *Connector) settle() {
	if c.state == csDisconnected && c.started {
		c.started = false
		c.r.factoryStop(c.cf)
	}
}

// cancel abandons the attempt in progress, as StopConnecting: why, if not
// nil, says who (a stop, ctx). Loop goroutine.
func (c *Connector) cancel(why error) {
	if a := c.att; a != nil {
		a.finish()
		c.failed(a, &ConnectError{Addr: c.addrString(), Kind: transport.ErrUserCancelled, Err: why})
	}
}

// timeoutError is the reason of an attempt past its timeout.
func (c *Connector) timeoutError() error {
	return &ConnectError{Addr: c.addrString(), Kind: transport.ErrTimeout,
		Err: fmt.Errorf("no connection after %v", c.cfg.connectTimeout.Round(time.Millisecond))}
}
