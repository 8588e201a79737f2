package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cloudflare/tableflip"
	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
)

// A restart (--pid-file), with github.com/cloudflare/tableflip:
//
//	old process                          new process
//	SIGHUP → Upgrade: fork+exec self,
//	  passing the listening sockets  →   Listen: the inherited sockets
//	                                     (ListenFile on a duplicate)
//	                                     reactor runs → Ready: PID file
//	Upgrade returns  ←──────────────────   written, parent told
//	StopListening; connections end
//	on their own (up to stop timeout),
//	then a graceful Stop; exit 0    →    WaitForParent returns; the
//	                                     next SIGHUP may restart it
//
// The two processes share each listening socket (one socket, two
// descriptors), so a connection is queued in its backlog whichever process
// accepts it: none is refused while both run, nor after the old one closes
// its descriptor.

// restarter is one process's side of restarts.
type restarter struct {
	log         zerolog.Logger
	upg         *tableflip.Upgrader
	stopTimeout time.Duration

	hup       chan os.Signal
	done      chan struct{} // closed by close
	wg        sync.WaitGroup
	unixPaths []string    // the UNIX sockets' files, removed unless handed over
	handedOff atomic.Bool // a new process serves: leave the files
}

// newRestarter makes the process's tableflip upgrader (one per process).
func newRestarter(log zerolog.Logger, pidFile string, stopTimeout time.Duration) (*restarter, error) {
	upg, err := tableflip.New(tableflip.Options{PIDFile: pidFile})
	if err != nil {
		return nil, fmt.Errorf("cli: restarts: %w", err)
	}
	return &restarter{log: log, upg: upg, stopTimeout: stopTimeout, done: make(chan struct{})}, nil
}

// restartNetwork returns the network and address tableflip names an
// endpoint's socket by, or an error wrapping ErrRestart for an endpoint
// that restarts cannot pass on.
func restartNetwork(srv endpoint.Server) (network, addr string, err error) {
	switch srv.Kind {
	case endpoint.TCP, endpoint.TCP6:
		if srv.ReusePort {
			return "", "", fmt.Errorf("%w: %s: reuseport=1 makes a socket per process, which restarts do not pass on", ErrRestart, srv)
		}
		return srv.Network, srv.Addr, nil
	case endpoint.UNIX:
		if srv.ReusePort {
			return "", "", fmt.Errorf("%w: %s: reuseport=1 makes a socket per process, which restarts do not pass on", ErrRestart, srv)
		}
		return "unix", srv.Path, nil
	case endpoint.Systemd:
		return "", "", fmt.Errorf("%w: %s: systemd keeps an activated socket across restarts itself; use systemctl restart", ErrRestart, srv)
	}
	return "", "", fmt.Errorf("%w: %s", ErrRestart, srv)
}

// listen listens on srv through tableflip, which hands over the socket the
// previous process passed, if any, or makes one, and serves it with
// reactor.ListenFile.
func (rs *restarter) listen(r *reactor.Reactor, srv endpoint.Server, f factory.Factory) (*reactor.Port, error) {
	network, addr, err := restartNetwork(srv)
	if err != nil {
		return nil, err
	}
	file, inherited, err := rs.socket("listen "+network+" "+addr, func() (net.Listener, error) {
		return newListener(network, addr, srv)
	})
	if err != nil {
		return nil, err
	}
	defer file.Close() // the port and tableflip have their own descriptors
	p, err := r.ListenFile(file, f, portOptions(srv)...)
	if err != nil {
		return nil, err
	}
	if network == "unix" && addr[0] != '@' {
		rs.unixPaths = append(rs.unixPaths, addr)
	}
	rs.log.Debug().Str("network", network).Str("addr", addr).Bool("inherited", inherited).Msg("restartable listener")
	return p, nil
}

// socket returns the listening socket named name that the previous process
// passed, or else one that create makes, and has tableflip pass it on to
// the next process. Sockets are passed by a name of whirl's (tableflip's
// own keys, network and address, would mix up two ports both bound to
// port 0).
func (rs *restarter) socket(name string, create func() (net.Listener, error)) (file *os.File, inherited bool, err error) {
	file, err = rs.upg.Fds.File(name)
	if err != nil {
		return nil, false, fmt.Errorf("cli: restarts: %w", err)
	}
	if file != nil {
		return file, true, nil
	}
	ln, err := create()
	if err != nil {
		return nil, false, err
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // the file stays for the socket's other descriptors
	}
	defer ln.Close()
	fl, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, false, fmt.Errorf("cli: restarts: %T has no File method", ln)
	}
	if file, err = fl.File(); err != nil {
		return nil, false, err
	}
	if err := rs.upg.Fds.AddFile(name, file); err != nil {
		file.Close()
		return nil, false, fmt.Errorf("cli: restarts: %w", err)
	}
	return file, false, nil
}

// newListener makes a listening socket for a restartable endpoint with Go's
// net package (tableflip keeps net.Listeners). For a UNIX socket it replaces
// a stale socket file (one nobody accepts on) and sets the file's mode.
func newListener(network, addr string, srv endpoint.Server) (net.Listener, error) {
	if network != "unix" {
		return net.Listen(network, addr)
	}
	if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.DialTimeout("unix", addr, time.Second); err == nil {
			c.Close() // in use: Listen fails below
		} else {
			_ = os.Remove(addr)
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if srv.Mode != 0 && addr[0] != '@' {
		if err := os.Chmod(addr, srv.Mode.Perm()); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// portOptions turns an endpoint's per-port settings into reactor options,
// as Reactor.ListenEndpoint does.
func portOptions(s endpoint.Server) []reactor.Option {
	var opts []reactor.Option
	if s.Backlog > 0 {
		opts = append(opts, reactor.WithBacklog(s.Backlog))
	}
	if s.ReadIdleTimeout > 0 {
		opts = append(opts, reactor.WithReadIdleTimeout(s.ReadIdleTimeout))
	}
	if s.WriteStallTimeout > 0 {
		opts = append(opts, reactor.WithWriteStallTimeout(s.WriteStallTimeout))
	}
	if s.MaxWriteBuffer > 0 {
		opts = append(opts, reactor.WithMaxWriteBuffer(s.MaxWriteBuffer))
	}
	if s.SendBuffer > 0 {
		opts = append(opts, reactor.WithWriteBufferSize(s.SendBuffer))
	}
	if s.ReceiveBuffer > 0 {
		opts = append(opts, reactor.WithReadBufferSize(s.ReceiveBuffer))
	}
	return opts
}

// listenMetrics listens for the metrics server: through tableflip when
// restarts are on, so that the new process serves the same address.
func listenMetrics(rs *restarter, addr string) (net.Listener, error) {
	if rs == nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("cli: metrics on %s: %w", addr, err)
		}
		return ln, nil
	}
	file, _, err := rs.socket("metrics tcp "+addr, func() (net.Listener, error) { return net.Listen("tcp", addr) })
	if err != nil {
		return nil, fmt.Errorf("cli: metrics on %s: %w", addr, err)
	}
	defer file.Close()
	ln, err := net.FileListener(file)
	if err != nil {
		return nil, fmt.Errorf("cli: metrics on %s: %w", addr, err)
	}
	return ln, nil
}

// serve runs the restart machinery once the port listens: it reports the
// process ready once the reactor runs, starts a new process on SIGHUP, and
// after a successful restart stops listening, lets the connections end,
// and cancels the run (cancel) so that the reactor stops.
func (rs *restarter) serve(ctx context.Context, cancel context.CancelFunc, r *reactor.Reactor, p *reactor.Port, ms *metricsServer) {
	// A task queued before Run runs once the loops run: the process is
	// ready then, not before.
	running := make(chan struct{})
	if r.CallFromGoroutine(func() { close(running) }) != nil {
		return // stopped already
	}
	rs.hup = make(chan os.Signal, 1)
	signal.Notify(rs.hup, syscall.SIGHUP)
	rs.wg.Add(3)
	go func() {
		defer rs.wg.Done()
		select {
		case <-running:
			rs.ready()
		case <-rs.done:
		}
	}()
	go func() {
		defer rs.wg.Done()
		rs.upgradeOnHUP()
	}()
	go func() {
		defer rs.wg.Done()
		select {
		case <-rs.upg.Exit():
		case <-ctx.Done():
			return
		case <-rs.done:
			return
		}
		rs.handOver(ctx, cancel, r, p, ms)
	}()
}

// ready tells the parent (if any) and systemd (if it asked) that this
// process serves, and writes the PID file.
func (rs *restarter) ready() {
	if err := rs.upg.Ready(); err != nil {
		rs.log.Error().Err(err).Msg("could not report ready")
		return
	}
	if err := sdNotify(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid())); err != nil {
		rs.log.Warn().Err(err).Msg("could not notify systemd")
	}
	rs.log.Info().Bool("restarted", rs.upg.HasParent()).Msg("ready")
	if rs.upg.HasParent() {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-rs.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := rs.upg.WaitForParent(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			rs.log.Warn().Err(err).Msg("the previous process misbehaved while exiting")
		} else if err == nil {
			rs.log.Info().Msg("the previous process has exited")
		}
	}
}

// upgradeOnHUP starts a new process on each SIGHUP, until the restarter
// closes or a restart succeeds.
func (rs *restarter) upgradeOnHUP() {
	for {
		select {
		case <-rs.done:
			return
		case <-rs.upg.Exit():
			return
		case <-rs.hup:
		}
		rs.log.Info().Msg("SIGHUP: starting a new process")
		_ = sdNotify("RELOADING=1")
		if err := rs.upg.Upgrade(); err != nil {
			rs.log.Error().Err(err).Msg("restart failed; this process keeps serving")
			_ = sdNotify("READY=1")
			continue
		}
		return
	}
}

// handOver runs in the old process once the new one is ready: stop
// listening, let the connections end on their own for up to the stop
// timeout, then cancel the run for a graceful stop of the rest.
func (rs *restarter) handOver(ctx context.Context, cancel context.CancelFunc, r *reactor.Reactor, p *reactor.Port, ms *metricsServer) {
	start := time.Now()
	rs.handedOff.Store(true)
	_ = p.StopListening()
	if ms != nil {
		ms.close()
	}
	open := r.Stats().ConnsOpen
	rs.log.Info().Int64("connections", open).Stringer("stop_timeout", rs.stopTimeout).Msg("the new process is ready; stopped listening, draining")
	deadline := time.NewTimer(rs.stopTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for open > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			rs.log.Warn().Int64("connections", open).Msg("connections still open at the stop timeout; stopping")
			cancel()
			return
		case <-tick.C:
			open = r.Stats().ConnsOpen
		}
	}
	rs.log.Info().Stringer("took", time.Since(start).Round(time.Millisecond)).Msg("drained")
	cancel()
}

// close stops the restart machinery: no more restarts, and unless a new
// process took over, the UNIX sockets' files are removed.
func (rs *restarter) close() {
	if rs.hup != nil {
		signal.Stop(rs.hup)
	}
	close(rs.done)
	rs.upg.Stop()
	rs.wg.Wait()
	if !rs.handedOff.Load() {
		for _, path := range rs.unixPaths {
			if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
				_ = os.Remove(path)
			}
		}
	}
}
