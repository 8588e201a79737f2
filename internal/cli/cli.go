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
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
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
// "tcp:0:interface=127.0.0.1", "127.0.0.1:8000", ...), makes a reactor with
// opts and log, listens there with f, and runs until ctx is done; the
// reactor then stops gracefully within its stop timeout (see
// [reactor.WithStopTimeout]). It serves tcp endpoints only for now: other
// kinds (tcp6, unix, udp, systemd) give an error wrapping
// [endpoint.ErrUnsupported].
//
// The reactor serves this one port, so the options of the port that listen
// gives override the matching ones in opts: backlog=
// ([reactor.WithBacklog]), reuseport=1 ([reactor.WithReusePort]), idle=
// ([reactor.WithReadIdleTimeout]), stall= ([reactor.WithWriteStallTimeout])
// and maxwrite= ([reactor.WithMaxWriteBuffer]).
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
	srv, err := parseListen(listen)
	if err != nil {
		return err
	}
	all := append(append(make([]reactor.Option, 0, len(opts)+6), opts...), portOptions(srv)...)
	all = append(all, reactor.WithLogger(log))
	r := reactor.New(all...)

	port, err := r.ListenTCP(srv.Addr, f)
	if err != nil {
		return fmt.Errorf("cli: listen on %s: %w", listen, err)
	}
	log.Info().Str("addr", port.Addr().String()).Str("listen", listen).Msg("listening")
	if ready != nil {
		ready(port.Addr())
	}

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
// the kinds of endpoint the command line cannot serve yet: it listens with
// the reactor's ListenTCP, which serves tcp only (tcp6 is IPv6 only, which
// ListenTCP does not do).
func parseListen(listen string) (endpoint.Server, error) {
	srv, err := endpoint.ParseServer(listen)
	if err != nil {
		return endpoint.Server{}, err
	}
	if srv.Kind != endpoint.TCP {
		return endpoint.Server{}, fmt.Errorf("cli: listen on %q: %w: %s is not supported by the command line yet (it serves tcp)", listen, endpoint.ErrUnsupported, srv.Kind)
	}
	return srv, nil
}

// portOptions returns the reactor options for the port options srv gives.
func portOptions(srv endpoint.Server) []reactor.Option {
	var opts []reactor.Option
	if srv.Backlog > 0 {
		opts = append(opts, reactor.WithBacklog(srv.Backlog))
	}
	if srv.ReusePort {
		opts = append(opts, reactor.WithReusePort(true))
	}
	if srv.ReadIdleTimeout > 0 {
		opts = append(opts, reactor.WithReadIdleTimeout(srv.ReadIdleTimeout))
	}
	if srv.WriteStallTimeout > 0 {
		opts = append(opts, reactor.WithWriteStallTimeout(srv.WriteStallTimeout))
	}
	if srv.MaxWriteBuffer > 0 {
		opts = append(opts, reactor.WithMaxWriteBuffer(srv.MaxWriteBuffer))
	}
	return opts
}

// Flags are the command-line settings every whirl server takes. Register
// defines them on a flag set with their defaults; in a Flags filled by hand,
// an empty LogLevel and a zero Loops mean the defaults, and Listen is
// required.
type Flags struct {
	// Listen is the address to listen on, a tcp endpoint or host:port that
	// endpoint.ParseServer accepts (--listen).
	Listen string
	// LogLevel is the level of the log written to stderr (--log-level).
	LogLevel string
	// Loops is the number of event loops, 0 for one per CPU (--loops).
	Loops int
}

// Register defines --listen (default listen), --log-level (default
// [DefaultLogLevel]) and --loops (default 0) on fs, storing their values in
// fl. Any goroutine.
func (fl *Flags) Register(fs *flag.FlagSet, listen string) {
	fs.StringVar(&fl.Listen, "listen", listen, "`address` to listen on: tcp:PORT[:interface=IP][:backlog=N][:reuseport=1][:idle=DURATION][:stall=DURATION][:maxwrite=SIZE], or host:port")
	fs.StringVar(&fl.LogLevel, "log-level", DefaultLogLevel, "log `level`: trace, debug, info, warn, error or disabled")
	fs.IntVar(&fl.Loops, "loops", 0, "`number` of event loops (0: one per CPU, 1: Twisted's single-threaded model)")
}

// Check reports the first flag whose value cannot be used: a listen address
// endpoint.ParseServer refuses or the command line cannot serve yet (an
// error wrapping endpoint.ErrUnsupported for a kind other than tcp), an
// unknown log level (wrapping [ErrLogLevel]) or a negative loop count
// (wrapping [ErrLoops]). Commands call it after parsing their flags to
// report a bad value as a usage error. Any goroutine.
func (fl *Flags) Check() error {
	if _, err := parseListen(fl.Listen); err != nil {
		return err
	}
	if _, err := parseLevel(fl.LogLevel); err != nil {
		return err
	}
	_, err := fl.Options()
	return err
}

// Options returns the reactor options the flags ask for, or an error
// wrapping [ErrLoops] for a negative loop count. Any goroutine.
func (fl *Flags) Options() ([]reactor.Option, error) {
	if fl.Loops < 0 {
		return nil, fmt.Errorf("%w: --loops %d", ErrLoops, fl.Loops)
	}
	return []reactor.Option{reactor.WithLoops(fl.Loops)}, nil
}

// Serve makes the logger the flags ask for, writing to logOut (normally
// os.Stderr), and serves f on the --listen address with ServeReady until
// ctx is done; ready may be nil. Any goroutine; it blocks.
func (fl *Flags) Serve(ctx context.Context, logOut *os.File, f factory.Factory, ready func(net.Addr)) error {
	log, err := NewLogger(logOut, fl.LogLevel)
	if err != nil {
		return err
	}
	opts, err := fl.Options()
	if err != nil {
		return err
	}
	return ServeReady(ctx, log, fl.Listen, f, ready, opts...)
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
	var fl Flags
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
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fl, err := ParseServerFlags(fs, os.Args[1:], "tcp:8000", extras...)
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
