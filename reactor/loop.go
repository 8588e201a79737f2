package reactor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/internal/gnetlog"
	"github.com/whirl-go/whirl/transport"
)

// loop is one gnet event loop (a gnet.Client with one loop) and whirl's state
// for it. It implements gnet.EventHandler and transport.Loop.
type loop struct {
	gnet.BuiltinEventEngine

	r      *Reactor
	idx    int
	cli    *gnet.Client
	el     gnet.EventLoop
	epfd   int           // the loop's epoll set, or -1 (see findEpoll)
	nconns atomic.Int64  // connections assigned to this loop (for balancing)
	gid    atomic.Uint64 // the loop goroutine's id, for Reactor.onLoop

	mu      sync.Mutex // guards the fields below
	depth   int        // nesting of dispatches in progress
	dirty   []*conn    // connections to service before the dispatch ends
	pre     []func()   // tasks submitted before the loop started
	started bool
	stopped bool

	// Loop goroutine only.
	conns   []*conn // open connections; conn.slot is the index
	current *conn   // the connection whose gnet callback is running
	batch   []*conn
}

var _ transport.Loop = (*loop)(nil)

func newLoop(r *Reactor, idx int) *loop {
	return &loop{r: r, idx: idx}
}

// start creates the gnet client, starts it and finds its EventLoop handle.
func (l *loop) start() error {
	cli, err := gnet.NewClient(l,
		gnet.WithNumEventLoop(1),
		gnet.WithLogger(gnetlog.Logger{L: l.r.log}),
		gnet.WithTCPNoDelay(gnet.TCPDelay), // keep what the accepted socket has
	)
	if err != nil {
		return err
	}
	if err := cli.Start(); err != nil {
		return err
	}
	l.cli = cli
	el, epfd, err := controlLoop(cli, l)
	if err != nil {
		_ = cli.Stop()
		return fmt.Errorf("reactor: find event loop: %w", err)
	}
	l.epfd = epfd
	if l.r.cfg.noEpollPause {
		l.epfd = -1
	}
	l.mu.Lock()
	l.el = el
	l.started = true
	l.pre = append([]func(){func() { l.gid.Store(goid()) }}, l.pre...)
	pre := l.pre
	l.pre = nil
	l.mu.Unlock()
	for _, fn := range pre {
		if err := l.submit(fn); err != nil {
			return err
		}
	}
	return nil
}

// controlLoop enrolls one end of a socketpair to learn the client's loop
// handle and its epoll set, then closes it: gnet offers no other way to run
// tasks on a client's loop.
func controlLoop(cli *gnet.Client, l *loop) (gnet.EventLoop, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, -1, os.NewSyscallError("socketpair", err)
	}
	f0, f1 := os.NewFile(uintptr(fds[0]), "whirl-control-0"), os.NewFile(uintptr(fds[1]), "whirl-control-1")
	defer f1.Close()
	nc, err := net.FileConn(f0)
	f0.Close()
	if err != nil {
		return nil, -1, err
	}
	gc, err := cli.Enroll(nc)
	if err != nil {
		return nil, -1, err
	}
	el := gc.EventLoop()
	epfd, perr := findEpoll(el, gc.Fd())
	_ = gc.Close()
	if perr != nil {
		l.r.log.Warn().Err(perr).Int("loop", l.idx).Msg("read pause cannot stop reading the socket; falling back to bounded buffering")
	}
	return el, epfd, nil
}

// stop stops the gnet client; tasks submitted afterwards fail.
func (l *loop) stop() {
	l.mu.Lock()
	l.stopped = true
	cli := l.cli
	l.mu.Unlock()
	if cli != nil {
		_ = cli.Stop()
	}
}

// submit runs fn on the loop inside a dispatch. Any goroutine.
func (l *loop) submit(fn func()) error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return transport.ErrLoopStopped
	}
	if !l.started {
		l.pre = append(l.pre, fn)
		l.mu.Unlock()
		return nil
	}
	el := l.el
	l.mu.Unlock()
	err := el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.dispatch(fn)
		return nil
	}))
	if err != nil {
		return transport.ErrLoopStopped
	}
	return nil
}

// kick makes sure c is serviced soon: at the end of the dispatch in progress on
// the loop, or by a task. Any goroutine.
func (l *loop) kick(c *conn) {
	l.mu.Lock()
	if l.depth > 0 {
		l.dirty = append(l.dirty, c)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	_ = l.submit(c.service)
}

// enter and leave bracket every callback the loop runs. leave services the
// connections made dirty during the dispatch before it ends. Loop goroutine.
func (l *loop) enter() {
	l.mu.Lock()
	l.depth++
	l.mu.Unlock()
}

func (l *loop) leave() {
	for {
		l.mu.Lock()
		if l.depth > 1 || len(l.dirty) == 0 {
			l.depth--
			l.mu.Unlock()
			return
		}
		batch := l.dirty
		l.dirty = l.batch[:0]
		l.mu.Unlock()
		for i, c := range batch {
			c.service()
			batch[i] = nil
		}
		l.batch = batch[:0]
	}
}

func (l *loop) dispatch(fn func()) {
	l.enter()
	l.r.safeCall("task", fn)
	l.leave()
}

// closeConn closes c now, or when the gnet callback running for c returns.
// Loop goroutine.
func (l *loop) closeConn(c *conn) {
	if c.isGone() {
		return
	}
	if l.current == c {
		c.lf |= fCloseOnReturn
		return
	}
	_ = l.el.Close(c.gc)
}

// addConn and removeConn keep l.conns, the loop's open connections (a slice
// rather than a map: it costs a pointer per connection). Loop goroutine.
func (l *loop) addConn(c *conn) {
	c.slot = int32(len(l.conns))
	l.conns = append(l.conns, c)
}

func (l *loop) removeConn(c *conn) {
	i := int(c.slot)
	if i < 0 || i >= len(l.conns) || l.conns[i] != c {
		return
	}
	last := len(l.conns) - 1
	l.conns[i] = l.conns[last]
	l.conns[i].slot = int32(i)
	l.conns[last] = nil
	l.conns = l.conns[:last]
	c.slot = -1
	if cap(l.conns) > 64 && len(l.conns) < cap(l.conns)/4 {
		l.conns = append([]*conn(nil), l.conns...) // give back what a burst grew
	}
}

// OnOpen runs on the loop when a connection is registered.
func (l *loop) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c, ok := gc.Context().(*conn)
	if !ok {
		return nil, gnet.None // the control connection
	}
	c.gc = gc
	c.state.Store(stateOpen)
	l.addConn(c)
	l.current = c
	l.enter()
	c.open()
	l.leave()
	l.current = nil
	if c.lflag(fCloseOnReturn) {
		return nil, gnet.Close
	}
	return nil, gnet.None
}

// OnTraffic runs on the loop when bytes arrived.
func (l *loop) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	data, _ := gc.Next(-1)
	if c.state.Load() != stateOpen || c.proto == nil {
		return gnet.None // closing: reads are no longer delivered
	}
	l.current = c
	l.enter()
	c.received(data)
	l.leave()
	l.current = nil
	if c.lflag(fCloseOnReturn) {
		return gnet.Close
	}
	return gnet.None
}

// OnClose runs on the loop when a connection closed, before gnet closes its
// descriptor.
func (l *loop) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	l.enter()
	c.closed(l.reasonFor(c, err))
	l.leave()
	return gnet.None
}

// reasonFor turns gnet's close error into the reason ConnectionLost gets.
func (l *loop) reasonFor(c *conn, err error) error {
	if reason := c.closeReason(); reason != nil {
		return reason
	}
	if err == nil {
		return transport.ErrConnectionDone
	}
	if errors.Is(err, io.EOF) {
		// gnet reports EPOLLHUP/EPOLLERR as EOF too: ask the socket.
		if soErr, e := unix.GetsockoptInt(c.gc.Fd(), unix.SOL_SOCKET, unix.SO_ERROR); e == nil && soErr != 0 {
			return transport.Lost(os.NewSyscallError("read", unix.Errno(soErr)))
		}
		return transport.ErrConnectionDone
	}
	return transport.Lost(err)
}

// transport.Loop, for the reactor's loop 0 and each connection's loop.

// Now returns the current time. Any goroutine.
func (l *loop) Now() time.Time { return time.Now() }

// CallLater runs fn on the loop after d. Any goroutine.
func (l *loop) CallLater(d time.Duration, fn func()) transport.DelayedCall {
	return newDelayedCall(l, d, fn)
}

// CallSoon runs fn on the loop. Any goroutine.
func (l *loop) CallSoon(fn func()) error { return l.submit(fn) }

// DeferToGoroutine runs fn on the worker pool and then on the loop. Any goroutine.
func (l *loop) DeferToGoroutine(fn func() (any, error), then func(any, error)) {
	l.r.workers.run(l, fn, then)
}
