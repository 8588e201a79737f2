package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
)

// Errors of the operations flags, wrapped with the offending value.
var (
	// ErrLogFormat means a log format is not auto, json or console.
	ErrLogFormat = errors.New("cli: unknown log format")
	// ErrMetricsAddr means a --metrics address is not host:port.
	ErrMetricsAddr = errors.New("cli: bad metrics address")
	// ErrRestart means restarts (--pid-file) cannot serve the listen
	// address.
	ErrRestart = errors.New("cli: restarts not supported")
)

// DefaultStopTimeout is how long a graceful stop (SIGINT, SIGTERM) lets
// connections flush and close before it aborts them, and how long the old
// process of a restart lets its connections end on their own.
const DefaultStopTimeout = 10 * time.Second

// The log formats of --log-format.
const (
	// LogAuto writes the console format on a terminal and JSON otherwise.
	LogAuto = "auto"
	// LogJSON writes one JSON object per line, for log collectors.
	LogJSON = "json"
	// LogConsole writes zerolog's human-readable console format.
	LogConsole = "console"
)

// Ops are the flags of a server in production: how it logs, where it
// serves its metrics, whether it can restart without downtime, how long it
// takes to stop. Flags embeds them. Zero values mean: format auto, no
// metrics, no restarts, [DefaultStopTimeout].
type Ops struct {
	// LogFormat is auto, json or console (--log-format).
	LogFormat string
	// Metrics is the host:port where /metrics (Prometheus) and
	// /debug/pprof/ are served over HTTP, or "" for none (--metrics).
	Metrics string
	// PIDFile enables zero-downtime restarts on SIGHUP: the PID of the
	// process that serves is written there once it is ready (--pid-file).
	PIDFile string
	// StopTimeout bounds a graceful stop (--stop-timeout).
	StopTimeout time.Duration
}

// register defines the operations flags on fs.
func (o *Ops) register(fs *flag.FlagSet) {
	fs.StringVar(&o.LogFormat, "log-format", LogAuto, "log `format`: json, console, or auto (console when stderr is a terminal, json otherwise)")
	fs.StringVar(&o.Metrics, "metrics", "", "serve /metrics (Prometheus) and /debug/pprof/ over HTTP on this `host:port` (empty: none)")
	fs.StringVar(&o.PIDFile, "pid-file", "", "enable zero-downtime restarts: SIGHUP starts a new process that inherits the listening sockets, and the PID of the ready process is written to this `file` (empty: no restarts)")
	fs.DurationVar(&o.StopTimeout, "stop-timeout", DefaultStopTimeout, "on SIGINT or SIGTERM, abort the connections still open after this `duration`; after a restart, the old process lets its connections end on their own for as long")
}

// checkOps reports an operations flag that cannot be used with the flags.
func (fl *Flags) checkOps() error {
	switch fl.LogFormat {
	case "", LogAuto, LogJSON, LogConsole:
	default:
		return fmt.Errorf("%w %q (want json, console or auto)", ErrLogFormat, fl.LogFormat)
	}
	if fl.Metrics != "" {
		_, port, err := net.SplitHostPort(fl.Metrics)
		if err != nil {
			return fmt.Errorf("%w: --metrics %q: %v", ErrMetricsAddr, fl.Metrics, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("%w: --metrics %q: bad port %q", ErrMetricsAddr, fl.Metrics, port)
		}
	}
	if fl.StopTimeout < 0 {
		return fmt.Errorf("%w: --stop-timeout %v", ErrLimit, fl.StopTimeout)
	}
	if fl.PIDFile != "" {
		srv, err := parseListen(fl.Listen)
		if err != nil {
			return err
		}
		if _, _, err := restartNetwork(srv); err != nil {
			return err
		}
	}
	return nil
}

// NewLoggerFormat is NewLogger with a format: [LogJSON], [LogConsole], or
// [LogAuto] (or "": console on a terminal, JSON otherwise, as NewLogger
// does). An unknown format gives an error wrapping [ErrLogFormat]. Any
// goroutine.
func NewLoggerFormat(w *os.File, level, format string) (zerolog.Logger, error) {
	switch format {
	case "", LogAuto:
		return NewLogger(w, level)
	case LogJSON, LogConsole:
	default:
		return zerolog.Nop(), fmt.Errorf("%w %q (want json, console or auto)", ErrLogFormat, format)
	}
	lvl, err := parseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	l := zerolog.New(w)
	if format == LogConsole {
		l = zerolog.New(zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !isTerminal(w)})
	}
	return l.Level(lvl).With().Timestamp().Logger(), nil
}

// Logger returns the logger the flags ask for (--log-level, --log-format),
// writing to w. Any goroutine.
func (fl *Flags) Logger(w *os.File) (zerolog.Logger, error) {
	return NewLoggerFormat(w, fl.LogLevel, fl.LogFormat)
}

// ServeReactor is Serve with setup, which is called with the reactor and
// the logger once the reactor is made, before it listens: a factory that
// needs its reactor (to connect out, as portforward's does) gets it there.
// setup may be nil. Any goroutine; it blocks.
func (fl *Flags) ServeReactor(ctx context.Context, logOut *os.File, f factory.Factory, ready func(net.Addr), setup func(*reactor.Reactor, zerolog.Logger)) error {
	log, err := fl.Logger(logOut)
	if err != nil {
		return err
	}
	opts, err := fl.Options()
	if err != nil {
		return err
	}
	return fl.run(ctx, log, f, ready, setup, opts)
}

// hooks are what a server run adds to ServeReady.
type hooks struct {
	// ready is ServeReady's: called with the bound address.
	ready func(net.Addr)
	// setup is called with the reactor and the logger once the reactor is
	// made, before it listens.
	setup func(*reactor.Reactor, zerolog.Logger)
	// listen listens on the endpoint instead of r.ListenEndpoint.
	listen func(r *reactor.Reactor, srv endpoint.Server, f factory.Factory) (*reactor.Port, error)
	// listening is called once the port listens, before Run, on the
	// serving goroutine.
	listening func(r *reactor.Reactor, p *reactor.Port)
}

// made runs the setup hook.
func (h *hooks) made(r *reactor.Reactor, log zerolog.Logger) {
	if h.setup != nil {
		h.setup(r, log)
	}
}

// listenOn listens on srv with f.
func (h *hooks) listenOn(r *reactor.Reactor, srv endpoint.Server, f factory.Factory) (*reactor.Port, error) {
	if h.listen != nil {
		return h.listen(r, srv, f)
	}
	return r.ListenEndpoint(srv, f)
}

// listened runs the hooks once the port listens.
func (h *hooks) listened(r *reactor.Reactor, p *reactor.Port) {
	if h.listening != nil {
		h.listening(r, p)
	}
	if h.ready != nil {
		h.ready(p.Addr())
	}
}

// run serves f as the flags ask, with the operations flags' metrics server
// and restarts around ServeReady's serve.
func (fl *Flags) run(ctx context.Context, log zerolog.Logger, f factory.Factory, ready func(net.Addr), setup func(*reactor.Reactor, zerolog.Logger), opts []reactor.Option) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := hooks{ready: ready, setup: setup}
	// Every line says which process wrote it: during a restart two
	// processes write to one log.
	log = log.With().Int("pid", os.Getpid()).Logger()

	var rs *restarter
	if fl.PIDFile != "" {
		var err error
		if rs, err = newRestarter(log, fl.PIDFile, fl.stopTimeout()); err != nil {
			return err
		}
		defer rs.close()
		h.listen = rs.listen
	}
	var ms *metricsServer
	if fl.Metrics != "" {
		ln, err := listenMetrics(rs, fl.Metrics)
		if err != nil {
			return err
		}
		ms = newMetricsServer(ln, log)
		defer ms.close()
	}
	h.listening = func(r *reactor.Reactor, p *reactor.Port) {
		if ms != nil {
			ms.serve(r)
		}
		fl.logStarted(log, r, p, ms, rs)
		r.OnShutdown(func(context.Context) error {
			if rs != nil && rs.handedOff.Load() {
				return nil // the service goes on, in the new process
			}
			return sdNotify("STOPPING=1")
		})
		if rs != nil {
			rs.serve(ctx, cancel, r, p, ms)
		} else {
			// systemd's Type=notify: ready once the loops run.
			_ = r.CallFromGoroutine(func() {
				go func() {
					if err := sdNotify("READY=1"); err != nil {
						log.Warn().Err(err).Msg("could not notify systemd")
					}
				}()
			})
		}
	}
	return serve(ctx, log, fl.Listen, fl.Wrap(f), h, opts)
}

func (fl *Flags) stopTimeout() time.Duration {
	if fl.StopTimeout > 0 {
		return fl.StopTimeout
	}
	return DefaultStopTimeout
}

// logStarted writes the startup line: what runs, and with which limits.
func (fl *Flags) logStarted(log zerolog.Logger, r *reactor.Reactor, p *reactor.Port, ms *metricsServer, rs *restarter) {
	ev := log.Info().
		Str("version", Version()).
		Int("loops", r.Stats().Loops).
		Str("listen", fl.Listen).
		Stringer("addr", p.Addr()).
		Stringer("idle_timeout", fl.IdleTimeout).
		Stringer("write_stall_timeout", fl.WriteStallTimeout).
		Int("max_connections", fl.MaxConnections).
		Int("max_per_ip", fl.MaxPerIP).
		Stringer("stop_timeout", fl.stopTimeout())
	if ms != nil {
		ev = ev.Stringer("metrics", ms.addr())
	}
	if rs != nil {
		ev = ev.Str("pid_file", fl.PIDFile).Bool("restarted", rs.upg.HasParent())
	}
	ev.Msg("started")
}
