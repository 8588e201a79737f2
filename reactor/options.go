package reactor

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/rs/zerolog"
)

// Option configures a Reactor, given to New. Every option's zero value means
// its documented default. Options are plain values: build them on any
// goroutine.
//
// The options about connections can also be given to one port or connector
// (ListenTCP, ListenUnix, Listen, ConnectTCP, ConnectUnix, Connect), where
// they override the reactor's for the connections of that port or
// connector: WithBacklog, WithReusePort, WithReadBufferSize,
// WithWriteBufferSize, WithTCPKeepAlive, WithDrainTimeout,
// WithWriteWatermarks, WithMaxWriteBuffer, WithLingerTimeout,
// WithReadIdleTimeout, WithWriteStallTimeout, WithConnectTimeout and
// WithBindAddress. The others (WithLoops, WithLogger, WithStopTimeout,
// WithWorkers) belong to the reactor: given to a port or connector, they
// make it fail with ErrReactorOption.
type Option func(*config)

type config struct {
	loops         int
	logger        zerolog.Logger
	backlog       int
	reusePort     bool
	readBuffer    int
	writeBuffer   int
	keepAlive     time.Duration
	keepInterval  time.Duration
	keepCount     int
	keepAliveSet  bool
	drainTimeout  time.Duration
	stopTimeout   time.Duration
	workers       int
	lingerTimeout time.Duration
	highWater     int
	lowWater      int
	maxWrite      int
	maxPaused     int
	idleTimeout   time.Duration
	stallTimeout  time.Duration

	tls              *tlsSide // ListenTLS, ConnectTLS: TLS from the start
	tlsTimeout       time.Duration
	tlsMaxHandshakes int

	connectTimeout time.Duration
	bindAddress    string
	unixLock       bool

	reactorOnly string // the last reactor-wide option applied, for ErrReactorOption
}

func newConfig(opts []Option) config {
	c := config{logger: zerolog.Nop()}
	for _, o := range opts {
		o(&c)
	}
	c.reactorOnly = ""
	c.defaults()
	return c
}

// ErrReactorOption is returned when an option that belongs to the whole
// reactor (WithLoops, WithLogger, WithStopTimeout, WithWorkers) is given to
// one port or connector.
var ErrReactorOption = errors.New("reactor: option applies to the whole reactor, not to one port or connector")

// derive returns the configuration of one port or connector: the reactor's,
// overridden by opts. Without opts it is c itself.
func (c *config) derive(opts []Option) (*config, error) {
	if len(opts) == 0 {
		return c, nil
	}
	d := *c
	for _, o := range opts {
		o(&d)
		if d.reactorOnly != "" {
			return nil, fmt.Errorf("%w: %s", ErrReactorOption, d.reactorOnly)
		}
	}
	d.defaults()
	return &d, nil
}

// defaults replaces zero values by the documented defaults.
func (c *config) defaults() {
	if c.loops <= 0 {
		c.loops = runtime.GOMAXPROCS(0)
	}
	if c.drainTimeout <= 0 {
		c.drainTimeout = 30 * time.Second
	}
	if c.stopTimeout <= 0 {
		c.stopTimeout = 10 * time.Second
	}
	if c.workers <= 0 {
		c.workers = 4 * runtime.GOMAXPROCS(0)
		if c.workers < 16 {
			c.workers = 16
		}
	}
	if c.highWater <= 0 {
		c.highWater = 64 << 10
	}
	if c.lowWater <= 0 {
		c.lowWater = 16 << 10
	}
	if c.lowWater > c.highWater {
		c.lowWater = c.highWater
	}
	if c.maxWrite <= 0 {
		c.maxWrite = 16 << 20
	}
	if c.maxPaused <= 0 {
		c.maxPaused = 4 << 20
	}
	if c.lingerTimeout <= 0 {
		c.lingerTimeout = 5 * time.Second
	}
	if c.connectTimeout <= 0 {
		c.connectTimeout = 30 * time.Second
	}
}

// WithLoops sets the number of event loops. 0 (the default) means one per
// usable CPU (GOMAXPROCS); 1 gives Twisted's single-threaded model, where every
// callback of every connection runs on one goroutine.
// Any goroutine.
func WithLoops(n int) Option {
	return func(c *config) { c.loops, c.reactorOnly = n, "WithLoops" }
}

// WithLogger sets the logger. The default is silent: the reactor logs nothing
// unless given a logger. (gnet's pollers log only if their epoll/kqueue wait
// itself fails, through gnet's process-wide logger; whirl then logs the
// failure here too.)
// Any goroutine.
func WithLogger(l zerolog.Logger) Option {
	return func(c *config) { c.logger, c.reactorOnly = l, "WithLogger" }
}

// WithBacklog sets the listen backlog of TCP ports. 0 (the default) uses the
// system's maximum (net.core.somaxconn).
// Any goroutine.
func WithBacklog(n int) Option { return func(c *config) { c.backlog = n } }

// WithReusePort sets SO_REUSEPORT on listening sockets, so several processes
// (or ports of one reactor) can listen on the same address. Default off.
// Any goroutine.
func WithReusePort(on bool) Option { return func(c *config) { c.reusePort = on } }

// WithReadBufferSize sets each connection's kernel receive buffer (SO_RCVBUF),
// in bytes. 0 (the default) leaves the system's default and auto-tuning.
// Any goroutine.
func WithReadBufferSize(n int) Option { return func(c *config) { c.readBuffer = n } }

// WithWriteBufferSize sets each connection's kernel send buffer (SO_SNDBUF),
// in bytes. 0 (the default) leaves the system's default and auto-tuning.
// Any goroutine.
func WithWriteBufferSize(n int) Option { return func(c *config) { c.writeBuffer = n } }

// WithTCPKeepAlive sets TCP keep-alive for accepted connections: idle time
// before the first probe, interval between probes, and probe count. An idle of
// 0 or less turns keep-alive off. Without this option, keep-alive follows Go's
// default for accepted connections (on, 15 s).
// Any goroutine.
func WithTCPKeepAlive(idle, interval time.Duration, count int) Option {
	return func(c *config) {
		c.keepAlive, c.keepInterval, c.keepCount, c.keepAliveSet = idle, interval, count, true
	}
}

// WithDrainTimeout bounds how long a closing connection waits for its output
// to drain without progress: LoseConnection waits as long as the peer keeps
// reading, and aborts the connection once its buffered output has not shrunk
// for this long, with a reason matching transport.ErrWriteStalled. Default 30 s.
// Any goroutine.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drainTimeout = d } }

// WithStopTimeout sets the deadline of the graceful stop that Run performs when
// its context ends. Default 10 s.
// Any goroutine.
func WithStopTimeout(d time.Duration) Option {
	return func(c *config) { c.stopTimeout, c.reactorOnly = d, "WithStopTimeout" }
}

// WithWorkers sets the size of the worker pool behind DeferToGoroutine.
// Default 4 × GOMAXPROCS, at least 16.
// Any goroutine.
func WithWorkers(n int) Option {
	return func(c *config) { c.workers, c.reactorOnly = n, "WithWorkers" }
}

// WithWriteWatermarks sets the default high and low watermarks of each
// connection's buffered output, in bytes (defaults 64 KiB and 16 KiB). Passing
// the high one pauses a registered streaming producer and calls the protocol's
// WriteBufferFull; draining below the low one resumes it and calls
// WriteBufferDrained. Transport.SetWriteWatermarks changes them per connection.
// Any goroutine.
func WithWriteWatermarks(high, low int) Option {
	return func(c *config) { c.highWater, c.lowWater = high, low }
}

// WithMaxWriteBuffer sets the hard cap of a connection's buffered output, in
// bytes (default 16 MiB). A write that would pass it fails with
// transport.ErrWriteBufferOverflow and aborts the connection with that reason,
// instead of letting a peer that does not read grow the process without bound.
// Any goroutine.
func WithMaxWriteBuffer(n int) Option { return func(c *config) { c.maxWrite = n } }

// WithMaxPausedReadBuffer bounded the received data a paused connection could
// hold when reads could slip through a pause.
//
// Deprecated: a paused connection is no longer read at all (its read interest
// leaves the poller), so it holds nothing and the bound is never reached. The
// option is accepted and ignored.
// Any goroutine.
func WithMaxPausedReadBuffer(n int) Option { return func(c *config) { c.maxPaused = n } }

// WithLingerTimeout bounds the lingering close: after LoseConnection (or a
// graceful Stop) has flushed the output and sent the FIN, the connection
// reads and discards input until the peer's FIN, so that the kernel does not
// reset the connection and drop output the peer has not received yet. After d
// it closes anyway: cleanly if the peer acknowledged every byte, else with a
// reason matching transport.ErrConnectionLost and transport.ErrLingerTimeout.
// Default 5 s.
// Any goroutine.
func WithLingerTimeout(d time.Duration) Option { return func(c *config) { c.lingerTimeout = d } }

// WithReadIdleTimeout closes a connection cleanly when nothing was received
// for d (reset on each read; paused connections are not timed). The reason
// matches transport.ErrConnectionDone and transport.ErrIdleTimeout. Default 0:
// no idle timeout.
// Any goroutine.
func WithReadIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithWriteStallTimeout aborts a connection whose buffered output made no
// progress for d while it stayed non-empty: a peer that stopped reading. The
// reason matches transport.ErrWriteStalled. Default 0: open connections may
// stall for ever (closing ones are bounded by WithDrainTimeout).
// Any goroutine.
func WithWriteStallTimeout(d time.Duration) Option { return func(c *config) { c.stallTimeout = d } }

// WithConnectTimeout bounds one connect attempt of a connector, name lookup
// included: past d it fails with a reason matching transport.ErrTimeout.
// Default 30 s (Twisted's).
// Any goroutine.
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// WithBindAddress makes a connector bind its socket to addr before it
// connects: "host" or "host:port" for TCP (port 0 or none: any), a path for
// UNIX sockets. Default: the system picks. Twisted's bindAddress.
// Any goroutine.
func WithBindAddress(addr string) Option { return func(c *config) { c.bindAddress = addr } }

// WithUnixLock makes ListenUnix take the lock file path+".lock" (Twisted's
// wantPID): a symbolic link whose target is the owner's PID. A lock left by a
// dead process is taken over and the socket file it left removed, so a server
// restarted after a crash can listen again; a lock held by a live process
// makes ListenUnix fail with ErrLocked. Without it (the default, as Twisted's
// listenUNIX), an existing socket file makes the bind fail with EADDRINUSE.
// The "unix:" endpoint string turns it on unless it says lockfile=0.
// Given to ConnectUnix, it is Twisted's checkPID: the attempt fails at once
// unless a live process holds the lock. Ignored for abstract names and TCP.
// Any goroutine.
func WithUnixLock(on bool) Option { return func(c *config) { c.unixLock = on } }
