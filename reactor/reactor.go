package reactor

import (
	"context"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
)

// Errors returned or reported by the reactor.
var (
	// ErrStopped is returned by calls made after Stop began.
	ErrStopped = errors.New("reactor: stopped")
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("reactor: already running")
	// ErrStopDeadline is wrapped in the reason of a connection aborted
	// because Stop's context ended before it closed cleanly.
	ErrStopDeadline = errors.New("reactor: stop deadline passed")
)

// Reactor runs protocols on event loops driven by gnet's pollers: Twisted's
// reactor. Create it with New, add ports with ListenTCP, then Run it. A
// Reactor runs once.
type Reactor struct {
	cfg     config
	log     zerolog.Logger
	loops   []*loop
	workers *workerPool
	tlsLim  *tlsproto.Limiter // bounds the TLS handshakes of every connection

	mu       sync.Mutex
	running  bool
	stopping bool
	ports    map[*Port]struct{}
	nextPort int // ports are spread over the loops round-robin
	nextConn int // so are connectors, on a tie of the loops' loads

	acceptErrorsGone int64 // accept errors of ports that stopped, for Stats
	factories        map[factory.Factory]int
	udp              udpState
	hooks            []func(context.Context) error
	stopReq          chan struct{} // closed when Stop begins
	stopped          chan struct{} // closed when Stop ends

	connMu sync.Mutex
	live   int
	idle   chan struct{}

	acceptLogged atomic.Int64 // when an accept error was last logged (unix ns)
}

// New returns a reactor configured by opts. Nothing runs until Run. Any goroutine.
func New(opts ...Option) *Reactor {
	cfg := newConfig(opts)
	r := &Reactor{
		cfg:       cfg,
		log:       cfg.logger,
		ports:     make(map[*Port]struct{}),
		factories: make(map[factory.Factory]int),
		stopReq:   make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	r.workers = newWorkerPool(cfg.workers)
	r.tlsLim = tlsproto.NewLimiter(cfg.tlsMaxHandshakes)
	for i := 0; i < cfg.loops; i++ {
		r.loops = append(r.loops, newLoop(r, i))
	}
	return r
}

// Run starts the event loops, which accept on the ports listening so far,
// then blocks until ctx is done or Stop is called. When ctx ends, Run
// stops the reactor gracefully with the WithStopTimeout deadline. It returns
// after the stop is complete: nil, or the error that kept the reactor from
// starting. Any goroutine, once.
func (r *Reactor) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return ErrRunning
	}
	if r.stopping {
		r.mu.Unlock()
		return ErrStopped
	}
	r.running = true
	var err error
	for _, l := range r.loops {
		if err = l.start(); err != nil {
			break
		}
	}
	for _, l := range r.loops {
		if err == nil {
			err = l.begin()
		}
	}
	if err != nil {
		r.stopping = true
		r.mu.Unlock()
		r.stopLoops()
		r.workers.stop()
		close(r.stopReq)
		close(r.stopped)
		return err
	}
	// Ports listen from here on, when every loop takes connections: the
	// first loop to accept must be able to hand them to the others.
	for p := range r.ports {
		_ = p.l.submit(p.register)
	}
	r.mu.Unlock()
	r.log.Debug().Int("loops", len(r.loops)).Msg("reactor running")

	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), r.cfg.stopTimeout)
		_ = r.Stop(sctx)
		cancel()
	case <-r.stopReq:
	}
	<-r.stopped
	return nil
}

// OnShutdown adds a hook that Stop runs first, before it stops accepting:
// Twisted's "before shutdown" trigger. Hooks run concurrently, each on its own
// goroutine, and Stop waits for all of them to return (or for its context to
// end) before going on. An error is logged. Any goroutine.
func (r *Reactor) OnShutdown(fn func(ctx context.Context) error) {
	r.mu.Lock()
	r.hooks = append(r.hooks, fn)
	r.mu.Unlock()
}

// Stop stops the reactor gracefully: it runs the OnShutdown hooks, stops
// accepting on every port, calls StopFactory per the factories' ref-counts,
// calls LoseConnection on every connection, waits until they have flushed and
// closed or ctx ends, aborts the rest, and stops the loops. Run then returns.
// Calls after the first wait for the first to finish.
//
// Stop blocks until the stop is over, except when called on one of the
// reactor's loops (from a callback): the stop then goes on in the background,
// with the same ctx and so the same deadline, and Stop returns nil at once,
// since the loop must keep running for connections to close. Any goroutine.
func (r *Reactor) Stop(ctx context.Context) error {
	if r.onLoop() {
		go func() { _ = r.Stop(ctx) }()
		return nil
	}
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		select {
		case <-r.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.stopping = true
	close(r.stopReq)
	hooks := r.hooks
	running := r.running
	ports := make([]*Port, 0, len(r.ports))
	for p := range r.ports {
		ports = append(ports, p)
	}
	r.mu.Unlock()

	r.runHooks(ctx, hooks)
	for _, p := range ports {
		_ = p.StopListening()
	}
	r.stopUDP()
	if running {
		r.eachLoop(func(l *loop) {
			for a := range l.attempts {
				a.c.cancel(ErrStopped)
			}
		})
		r.eachLoop(func(l *loop) {
			for _, c := range l.conns {
				if c != nil {
					c.LoseConnection()
				}
			}
		})
		if !r.waitIdle(ctx) {
			r.eachLoop(func(l *loop) {
				for _, c := range l.conns {
					if c != nil {
						c.abortNow(transport.Aborted(ErrStopDeadline))
					}
				}
			})
			actx, cancel := context.WithTimeout(context.Background(), time.Second)
			r.waitIdle(actx)
			cancel()
		}
		r.stopLoops()
	}
	r.workers.stop()
	if !running {
		r.stopLoops() // tasks queued for a Run that never came
	}
	close(r.stopped)
	r.log.Debug().Msg("reactor stopped")
	return nil
}

func (r *Reactor) runHooks(ctx context.Context, hooks []func(context.Context) error) {
	if len(hooks) == 0 {
		return
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, h := range hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					r.logPanic("OnShutdown hook", newPanicError(v), nil)
				}
			}()
			if err := h(ctx); err != nil {
				r.log.Error().Err(err).Msg("shutdown hook failed")
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn().Msg("shutdown hooks still running at the stop deadline")
	}
}

// eachLoop runs fn on every loop and waits for all of them.
func (r *Reactor) eachLoop(fn func(*loop)) {
	var wg sync.WaitGroup
	for _, l := range r.loops {
		wg.Add(1)
		if err := l.submit(func() { defer wg.Done(); fn(l) }); err != nil {
			wg.Done()
		}
	}
	wg.Wait()
}

func (r *Reactor) stopLoops() {
	for _, l := range r.loops {
		l.stop()
	}
}

// connStart and connDone count live connections, for Stop.
func (r *Reactor) connStart() {
	r.connMu.Lock()
	r.live++
	r.connMu.Unlock()
}

func (r *Reactor) connDone() {
	r.connMu.Lock()
	r.live--
	if r.live == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
	r.connMu.Unlock()
}

func (r *Reactor) waitIdle(ctx context.Context) bool {
	for {
		r.connMu.Lock()
		if r.live == 0 {
			r.connMu.Unlock()
			return true
		}
		if r.idle == nil {
			r.idle = make(chan struct{})
		}
		ch := r.idle
		r.connMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// CallLater runs fn on loop 0 after d: Twisted's reactor.callLater. A call
// made before Run waits for Run. Any goroutine.
func (r *Reactor) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	l := r.loops[0]
	return newDelayedCall(l, d, func() { r.safeCall("CallLater", fn) })
}

// CallFromGoroutine runs fn on loop 0: Twisted's callFromThread. Calls made
// before Run wait for Run; after Stop it returns ErrStopped. Any goroutine.
func (r *Reactor) CallFromGoroutine(fn func()) error {
	if err := r.loops[0].submit(fn); err != nil {
		return ErrStopped
	}
	return nil
}

// DeferToGoroutine runs fn on the bounded worker pool (where it may block),
// then then(result, err) on loop 0: Twisted's deferToThread. A panic in fn
// reaches then as a *transport.PanicError. A connection's own variant,
// t.Loop().DeferToGoroutine, calls then on the connection's loop. Any
// goroutine.
func (r *Reactor) DeferToGoroutine(fn func() (any, error), then func(result any, err error)) {
	r.workers.run(r.loops[0], fn, then, nil)
}

// Now returns the reactor's current time. Any goroutine.
func (r *Reactor) Now() time.Time { return time.Now() }

// safeCall runs fn, logging a panic instead of letting it end the loop.
func (r *Reactor) safeCall(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			r.logPanic(what, newPanicError(v), nil)
		}
	}()
	fn()
}

func newPanicError(v any) *transport.PanicError {
	return &transport.PanicError{Value: v, Stack: debug.Stack()}
}

func (r *Reactor) logPanic(what string, pe *transport.PanicError, peer net.Addr) {
	e := r.log.Error().Str("callback", what).Interface("panic", pe.Value).Bytes("stack", pe.Stack)
	if peer != nil {
		e = e.Stringer("peer", peer)
	}
	e.Msg("panic in callback recovered")
}

// onLoop reports whether the caller runs on one of the reactor's loops: each
// loop runs on a locked OS thread, whose id it recorded when it started, and
// a locked thread runs no other goroutine. A system call, for rare calls
// (Stop, StopListening) only.
func (r *Reactor) onLoop() bool {
	tid := threadID()
	for _, l := range r.loops {
		if l.tid.Load() == tid {
			return true
		}
	}
	return false
}
