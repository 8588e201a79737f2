package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/reactor"
)

// Errors returned by the package, wrapped with the offending value; test for
// them with [errors.Is]. Errors from parsing a listen address are the
// endpoint package's.
var (
	// ErrLogLevel means a log level name is not one zerolog knows.
	ErrLogLevel = errors.New("cli: unknown log level")
	// ErrLoops means a loop count is negative.
	ErrLoops = errors.New("cli: negative loop count")
)

// DefaultLogLevel is the level NewLogger uses when given an empty level.
const DefaultLogLevel = "info"

// NewLogger returns a logger writing to w at the given level ("trace",
// "debug", "info", "warn", "error", "fatal", "panic" or "disabled", in any
// case; "" means [DefaultLogLevel]). When w is a terminal (a character
// device) the lines are zerolog's human-readable console format; otherwise
// they are JSON, one object per line, for log collectors. Every line carries
// a timestamp. An unknown level gives an error wrapping [ErrLogLevel]. Any
// goroutine.
func NewLogger(w *os.File, level string) (zerolog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	var out io.Writer = w
	if isTerminal(w) {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

func parseLevel(level string) (zerolog.Level, error) {
	if level == "" {
		level = DefaultLogLevel
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.NoLevel, fmt.Errorf("%w %q (want trace, debug, info, warn, error, fatal, panic or disabled)", ErrLogLevel, level)
	}
	return lvl, nil
}

// isTerminal reports whether f is a character device, which a terminal is.
// (So is /dev/null, where the format does not matter.)
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Serve serves f on the listen address until ctx is done, as [ServeReady]
// does without a ready callback. Any goroutine; it blocks.
func Serve(ctx context.Context, log zerolog.Logger, listen string, f factory.Factory, opts ...reactor.Option) error {
	return ServeReady(ctx, log, listen, f, nil, opts...)
}

// ServeReady parses listen with [endpoint.ParseServer] ("tcp:8000",
// "tcp:0:interface=127.0.0.1", "unix:/run/app.sock:mode=660", "tcp6:8000",
// "systemd:domain=INET:index=0", "127.0.0.1:8000", ...), makes a reactor with
// opts and log, listens there with f ([reactor.Reactor.ListenEndpoint]: the
// options the string gives, such as backlog= or idle=, apply to the port and
// override opts), and runs until ctx is done; the reactor then stops
// gracefully within its stop timeout (see [reactor.WithStopTimeout]). A udp
// endpoint gives an error wrapping [endpoint.ErrUnsupported]: a stream
// server cannot serve it.
//
// It logs "listening" with the bound address (field "addr") once the port is
// bound, and "stopped" when the reactor has stopped. If ready is not nil it
// is called with the bound address at the same moment, before the reactor
// runs: connections made from then on are accepted once it runs. Tests use
// it to learn the port the system chose for port 0.
//
// Callers pass a ctx from signal.NotifyContext(ctx, os.Interrupt,
// syscall.SIGTERM) so that a signal stops the server gracefully. ServeReady
// returns nil after a stop caused by ctx, and otherwise the error that kept
// it from listening or running. Any goroutine; it blocks.
func ServeReady(ctx context.Context, log zerolog.Logger, listen string, f factory.Factory, ready func(net.Addr), opts ...reactor.Option) error {
	return serve(ctx, log, listen, f, hooks{ready: ready}, opts)
}

// serve is ServeReady with the hooks of the operations flags (ops.go).
func serve(ctx context.Context, log zerolog.Logger, listen string, f factory.Factory, h hooks, opts []reactor.Option) error {
	srv, err := parseListen(listen)
	if err != nil {
		return err
	}
	all := append(opts[:len(opts):len(opts)], reactor.WithLogger(log))
	r := reactor.New(all...)
	h.made(r, log)

	port, err := h.listenOn(r, srv, f)
	if err != nil {
		return fmt.Errorf("cli: listen on %s: %w", listen, err)
	}
	log.Info().Str("addr", port.Addr().String()).Str("listen", listen).Msg("listening")
	h.listened(r, port)

	start := time.Now()
	err = r.Run(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Stringer("uptime", time.Since(start).Round(time.Millisecond)).Msg("stopped")
	return err
}

// parseListen parses a listen address with endpoint.ParseServer and refuses
// udp, which a stream server cannot serve.
func parseListen(listen string) (endpoint.Server, error) {
	srv, err := endpoint.ParseServer(listen)
	if err != nil {
		return endpoint.Server{}, err
	}
	if srv.Kind == endpoint.UDP {
		return endpoint.Server{}, fmt.Errorf("cli: listen on %q: %w: udp is not supported by a stream server", listen, endpoint.ErrUnsupported)
	}
	return srv, nil
}

// The defaults of the limits every whirl server command sets, chosen for a
// server facing the public internet (the library's own defaults are
// Twisted's: no limit at all; docs/flow-control.md has both in one table).
const (
	// DefaultIdleTimeout closes a connection that sent nothing for 5
	// minutes: long enough for a person typing into a chat, short enough
	// that a peer that opened connections and went silent (a slowloris,
	// a crashed client behind a NAT that never sends a RST) gives them back.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultWriteStallTimeout aborts a connection whose output made no
	// progress for 60 s while some waited: a peer that stopped reading.
	// nginx's send_timeout is the same 60 s.
	DefaultWriteStallTimeout = 60 * time.Second
	// DefaultMaxConnections bounds the open connections of the server
	// (further ones are closed at once): 10 000 bounds the kernel's and
	// whirl's memory for idle connections to a few tens of MiB, and a
	// process rarely has more descriptors than that to spare.
	DefaultMaxConnections = 10000
	// DefaultMaxPerIP bounds the connections of one peer IP address (one
	// peer process on a UNIX socket): 100 leaves room for many users behind
	// one NAT while keeping one host from taking every slot.
	DefaultMaxPerIP = 100
)

// Flags are the command-line settings every whirl server takes. Register
// defines them on a flag set with their defaults; in a Flags filled by hand,
// an empty LogLevel and a zero Loops mean the defaults, Listen is required,
// and a zero timeout or limit means none.
type Flags struct {
	// Listen is the address to listen on, an endpoint string or host:port
	// that endpoint.ParseServer accepts (--listen), except udp.
	Listen string
	// LogLevel is the level of the log written to stderr (--log-level).
	LogLevel string
	// Loops is the number of event loops, 0 for one per CPU (--loops).
	Loops int
	// IdleTimeout closes connections that sent nothing for that long
	// (--idle-timeout; 0: never).
	IdleTimeout time.Duration
	// WriteStallTimeout aborts connections whose output made no progress
	// for that long (--write-stall-timeout; 0: never).
	WriteStallTimeout time.Duration
	// MaxConnections bounds the open connections (--max-connections; 0:
	// no bound).
	MaxConnections int
	// MaxPerIP bounds the open connections of one peer address
	// (--max-per-ip; 0: no bound).
	MaxPerIP int
	// Processes is the number of processes that serve the --listen port
	// together, sharing it with SO_REUSEPORT (--processes; 0 or 1: this
	// process alone). See Serve.
	Processes int

	args *[]string // what ParseServerFlags parsed, for --processes (a pointer keeps Flags comparable)
	// Ops are --log-format, --metrics, --pid-file and --stop-timeout
	// (ops.go).
	Ops
}

// Register defines --listen (default listen), --log-level (default
// [DefaultLogLevel]), --loops (default 0), --idle-timeout,
// --write-stall-timeout, --max-connections and --max-per-ip (defaults
// [DefaultIdleTimeout], [DefaultWriteStallTimeout],
// [DefaultMaxConnections], [DefaultMaxPerIP]), and the operations flags
// --log-format (default [LogAuto]), --metrics, --pid-file (default none)
// and --stop-timeout (default [DefaultStopTimeout]) on fs, storing their
// values in fl. Any goroutine.
func (fl *Flags) Register(fs *flag.FlagSet, listen string) {
	fs.StringVar(&fl.Listen, "listen", listen, "`address` to listen on: tcp:PORT[:interface=IP][:backlog=N][:reuseport=1][:idle=DURATION][:stall=DURATION][:maxwrite=SIZE], tcp6:PORT, unix:PATH[:mode=660], ssl:PORT:privateKey=KEY:certKey=CERT, systemd:domain=INET:index=0, or host:port; haproxy: before any of them reads a PROXY protocol header first")
	fs.StringVar(&fl.LogLevel, "log-level", DefaultLogLevel, "log `level`: trace, debug, info, warn, error or disabled")
	fs.IntVar(&fl.Loops, "loops", 0, "`number` of event loops (0: one per CPU, 1: Twisted's single-threaded model)")
	fs.DurationVar(&fl.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "close a connection that sent nothing for this `duration` (0: never)")
	fs.DurationVar(&fl.WriteStallTimeout, "write-stall-timeout", DefaultWriteStallTimeout, "abort a connection whose output made no progress for this `duration` (0: never)")
	fs.IntVar(&fl.MaxConnections, "max-connections", DefaultMaxConnections, "close new connections beyond this `number` open (0: no limit)")
	fs.IntVar(&fl.MaxPerIP, "max-per-ip", DefaultMaxPerIP, "close new connections of a peer address that has this `number` open (0: no limit)")
	fs.IntVar(&fl.Processes, "processes", 1, "run this `number` of processes sharing the tcp port (SO_REUSEPORT), each with --loops loops; crashed ones are restarted")
	fl.Ops.register(fs)
}

// ErrLimit means a timeout or a connection limit is negative.
var ErrLimit = errors.New("cli: negative timeout or limit")

// Wrap returns f behind the connection limits the flags ask for
// (policies.LimitTotalConnections and policies.LimitConnectionsByPeer), or
// f itself without limits. Connections over a limit are closed at once.
// Any goroutine.
func (fl *Flags) Wrap(f factory.Factory) factory.Factory {
	if fl.MaxPerIP > 0 {
		f = policies.LimitConnectionsByPeer(f, fl.MaxPerIP)
	}
	if fl.MaxConnections > 0 {
		f = policies.LimitTotalConnections(f, fl.MaxConnections, nil)
	}
	return f
}

// Check reports the first flag whose value cannot be used: a listen address
// endpoint.ParseServer refuses or a stream server cannot serve (udp: an
// error wrapping endpoint.ErrUnsupported), an unknown log level (wrapping
// [ErrLogLevel]), a negative loop count (wrapping [ErrLoops]) or a negative
// timeout or limit (wrapping [ErrLimit]), an unknown log format (wrapping
// [ErrLogFormat]), a --metrics address that is not host:port (wrapping
// [ErrMetricsAddr]) or a listen address that restarts cannot pass on
// (wrapping [ErrRestart]). Commands call it after parsing their flags to
// report a bad value as a usage error. Any goroutine.
func (fl *Flags) Check() error {
	srv, err := parseListen(fl.Listen)
	if err != nil {
		return err
	}
	if err := fl.checkProcesses(srv); err != nil {
		return err
	}
	if _, err := parseLevel(fl.LogLevel); err != nil {
		return err
	}
	_, err = fl.Options()
	return err
}

// Options returns the reactor options the flags ask for, or an error
// wrapping [ErrLoops] for a negative loop count. Any goroutine.
func (fl *Flags) Options() ([]reactor.Option, error) {
	if fl.Loops < 0 {
		return nil, fmt.Errorf("%w: --loops %d", ErrLoops, fl.Loops)
	}
	switch {
	case fl.IdleTimeout < 0:
		return nil, fmt.Errorf("%w: --idle-timeout %v", ErrLimit, fl.IdleTimeout)
	case fl.WriteStallTimeout < 0:
		return nil, fmt.Errorf("%w: --write-stall-timeout %v", ErrLimit, fl.WriteStallTimeout)
	case fl.MaxConnections < 0:
		return nil, fmt.Errorf("%w: --max-connections %d", ErrLimit, fl.MaxConnections)
	case fl.MaxPerIP < 0:
		return nil, fmt.Errorf("%w: --max-per-ip %d", ErrLimit, fl.MaxPerIP)
	}
	if err := fl.checkOps(); err != nil {
		return nil, err
	}
	return []reactor.Option{
		reactor.WithLoops(fl.Loops),
		reactor.WithReadIdleTimeout(fl.IdleTimeout),
		reactor.WithWriteStallTimeout(fl.WriteStallTimeout),
		reactor.WithStopTimeout(fl.StopTimeout),
	}, nil
}

// Serve makes the logger the flags ask for, writing to logOut (normally
// os.Stderr), and serves f on the --listen address as ServeReady does until
// ctx is done; ready may be nil. It logs a "started" line with the version,
// loops, address and limits, serves --metrics while the reactor runs, and
// with --pid-file restarts without downtime on SIGHUP (docs/operations.md);
// the old process of a restart returns nil once it has drained. Any
// goroutine; it blocks.
//
// With --processes N (N > 1, a tcp or tcp6 address) it serves nothing
// itself: like Tornado's TCPServer.start(N), it runs this program N times
// again, with the same flags, --processes=1 and reuseport=1 on the listen
// address (so each copy has its own listener and the kernel spreads the
// connections), restarts a copy that crashes, and stops them all
// gracefully (SIGTERM) when ctx is done. It needs the flags parsed by
// ParseServerFlags from this program's own command line.
func (fl *Flags) Serve(ctx context.Context, logOut *os.File, f factory.Factory, ready func(net.Addr)) error {
	log, err := fl.Logger(logOut)
	if err != nil {
		return err
	}
	opts, err := fl.Options()
	if err != nil {
		return err
	}
	if fl.Processes > 1 {
		srv, err := parseListen(fl.Listen)
		if err == nil {
			err = fl.checkProcesses(srv)
		}
		if err != nil {
			return err
		}
		return fl.serveProcesses(ctx, log, logOut, srv, ready)
	}
	return fl.run(ctx, log, f, childReady(ready), nil, opts)
}

// Extra is a server's own flags beyond Flags: the examples' factories
// (chat.Factory, framedecho.Factory) register them and check their values.
type Extra interface {
	// RegisterFlags defines the flags on fs. Any goroutine.
	RegisterFlags(fs *flag.FlagSet)
	// Check reports a flag value that cannot be used. Any goroutine.
	Check() error
}

// UsageError is a command line a server cannot run with; ParseServerFlags has
// already printed the reason and the usage on the flag set's output.
type UsageError struct{ Err error }

// Error returns the reason. Any goroutine.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the reason. Any goroutine.
func (e *UsageError) Unwrap() error { return e.Err }

// ParseServerFlags registers Flags (with listen as the default --listen) and
// the extras' flags on fs, parses args, and checks every value. It returns
// flag.ErrHelp for -h, and a *UsageError for a flag it cannot parse, a value
// a Check refuses, or an argument left over (printed with fs.Usage).
// Any goroutine.
func ParseServerFlags(fs *flag.FlagSet, args []string, listen string, extras ...Extra) (*Flags, error) {
	parsed := slices.Clone(args)
	fl := Flags{args: &parsed}
	fl.Register(fs, listen)
	for _, x := range extras {
		x.RegisterFlags(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &UsageError{err}
	}
	err := fl.Check()
	for _, x := range extras {
		if err == nil {
			err = x.Check()
		}
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return nil, &UsageError{err}
	}
	return &fl, nil
}

// Main is the whole main function of a runnable example: it parses the
// command line (ParseServerFlags, default --listen tcp:8000), serves f until
// SIGINT or SIGTERM, and returns the exit status: 0 after a graceful stop or
// -h, 2 for a usage error, 1 when the server could not run. Main goroutine.
func Main(name string, f factory.Factory, extras ...Extra) int {
	return MainAt(name, "tcp:8000", f, extras...)
}

// MainAt is Main with another default for --listen (an endpoint string such
// as "tcp:8080" or "unix:echo.sock"). Main goroutine.
func MainAt(name, listen string, f factory.Factory, extras ...Extra) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "Usage of %s:\n", name); PrintDefaults(fs) }
	fl, err := ParseServerFlags(fs, os.Args[1:], listen, extras...)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := fl.Serve(ctx, os.Stderr, f, nil); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
