package reactor

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// readBufferSize is the size of each loop's read buffer: the most one read
// takes from a socket.
const readBufferSize = 64 << 10

// maxReadsPerEvent bounds the reads one readiness event gets before the
// connection goes to the back of the loop's queue (edge-triggered sockets must
// be read until they are empty, but not at everyone else's expense).
const maxReadsPerEvent = 16

// loop is one of whirl's event loops: a gnet netpoll.Poller driven by a
// goroutine locked to its OS thread, and whirl's state for it. It implements
// transport.Loop.
type loop struct {
	r       *Reactor
	idx     int
	poller  *netpoll.Poller
	nconns  atomic.Int64 // connections assigned to this loop (for balancing)
	dialing atomic.Int64 // connect attempts asked of this loop, not yet ended (for balancing)
	st      loopStats    // counters for Stats
	tid     atomic.Int64 // the OS thread of the dispatch in progress (see pin), or 0

	runTask  queue.Func // runs a func() task inside a dispatch
	openTask queue.Func // opens a *conn handed over by another loop's acceptor

	// trigMu orders Trigger calls (read-locked) against the poller's shutdown
	// (locked): nothing is queued once the loop refused new work, and the
	// poller's descriptors are never written after they were closed.
	trigMu  sync.RWMutex
	polling bool      // the loop goroutine runs; guarded by trigMu
	started bool      // tasks are taken (begin); guarded by trigMu
	stopped bool      // guarded by trigMu
	pre     []preTask // tasks submitted before begin; guarded by trigMu
	done    chan struct{}

	mu    sync.Mutex // guards depth and dirty
	depth int        // nesting of dispatches in progress
	dirty []*conn    // connections to service before the dispatch ends

	// The lending slot (lend.go): a Write of a slice of buf made while
	// DataReceived runs is held here, not copied, until the loop flushes it
	// before buf is read into again.
	lendOK   atomic.Bool          // DataReceived of buf's bytes is running
	lendConn atomic.Pointer[conn] // the connection the slot is lent to, or nil
	lend     []byte               // the lent bytes; guarded by lendConn's mu

	// Loop goroutine only.
	conns    []*conn               // open connections, indexed by descriptor
	nopen    int                   // non-nil entries of conns
	ports    map[int]*Port         // listening sockets this loop accepts on
	other    map[int]fdHandler     // other descriptors: connects in progress, UDP ports
	attempts map[*attempt]struct{} // connect attempts in progress, for Stop
	buf      []byte                // the read buffer, shared by the loop's connections
	batch    []*conn
	spare    int // the reserved descriptor of the EMFILE trick, or -1
	pins     int // nesting of pin

	slow      []*conn // connections with output the kernel refused (see sweep)
	sweepOn   bool
	sweepTask func()
}

var _ transport.Loop = (*loop)(nil)

func newLoop(r *Reactor, idx int) *loop {
	l := &loop{r: r, idx: idx, spare: -1, done: make(chan struct{}), ports: make(map[int]*Port), other: make(map[int]fdHandler), attempts: make(map[*attempt]struct{})}
	l.runTask = func(arg any) error {
		l.pin()
		l.dispatch(arg.(func()))
		l.unpin()
		return nil
	}
	l.openTask = func(arg any) error {
		l.pin()
		l.openConn(arg.(*conn))
		l.unpin()
		return nil
	}
	l.sweepTask = l.sweep
	return l
}

// start opens the poller and starts the loop goroutine. Tasks submitted so
// far wait for begin.
func (l *loop) start() error {
	p, err := netpoll.OpenPoller()
	if err != nil {
		return err
	}
	l.poller = p
	l.buf = make([]byte, readBufferSize)
	l.spare = openReserve()
	l.trigMu.Lock()
	l.polling = true
	l.trigMu.Unlock()
	go l.run()
	return nil
}

// begin lets the loop take tasks, starting with those submitted before
// start, in their order: they are queued before anyone else can queue.
// Run calls it once every loop runs, so a connection accepted on one loop can
// always be handed to another.
func (l *loop) begin() error {
	l.trigMu.Lock()
	defer l.trigMu.Unlock()
	l.started = true
	pre := l.pre
	l.pre = nil
	defer l.startProbe()
	for _, t := range pre {
		if l.poller.Trigger(queue.HighPriority, l.runTask, t.fn) != nil {
			return transport.ErrLoopStopped
		}
	}
	return nil
}

func (l *loop) run() {
	err := l.poller.Polling(l.onEvent)
	if err != nil && err != gerrors.ErrEngineShutdown {
		l.r.log.Error().Err(err).Int("loop", l.idx).Msg("event loop failed")
		l.refuseWork()
	}
	l.shutdown()
}

// stop makes the loop finish the tasks queued so far, close what is left and
// return from Polling; it waits for that. Any goroutine but the loop's.
func (l *loop) stop() {
	l.trigMu.Lock()
	if !l.polling || l.stopped {
		l.stopped = true
		pre := l.pre
		l.pre = nil
		l.trigMu.Unlock()
		for _, t := range pre {
			if t.orElse != nil {
				go t.orElse()
			}
		}
		if l.polling {
			<-l.done
		}
		return
	}
	l.stopped = true
	// Tasks queued before this one run first (the queue is FIFO), and none
	// can be queued after it.
	err := l.poller.Trigger(queue.HighPriority, func(any) error { return gerrors.ErrEngineShutdown }, nil)
	l.trigMu.Unlock()
	if err != nil {
		l.r.log.Error().Err(err).Int("loop", l.idx).Msg("could not stop event loop")
		return
	}
	<-l.done
}

func (l *loop) refuseWork() {
	l.trigMu.Lock()
	l.stopped = true
	l.trigMu.Unlock()
}

// shutdown runs on the loop goroutine after Polling returned: it closes what
// is left (connections the stop could not close, listeners) and the poller.
func (l *loop) shutdown() {
	l.pin()
	defer l.unpin()
	for _, c := range l.conns {
		if c != nil {
			c.abortNow(transport.Aborted(ErrStopDeadline))
		}
	}
	for fd, p := range l.ports {
		delete(l.ports, fd)
		p.closeSocket()
	}
	for fd, h := range l.other {
		delete(l.other, fd)
		h.shut()
	}
	if l.spare >= 0 {
		unix.Close(l.spare)
		l.spare = -1
	}
	l.trigMu.Lock()
	_ = l.poller.Close()
	l.trigMu.Unlock()
	close(l.done)
}

// trigger queues fn(arg) to run on the loop. Any goroutine.
func (l *loop) trigger(fn queue.Func, arg any) error {
	l.trigMu.RLock()
	defer l.trigMu.RUnlock()
	if l.stopped {
		return transport.ErrLoopStopped
	}
	if !l.started {
		return errNotStarted
	}
	if err := l.poller.Trigger(queue.HighPriority, fn, arg); err != nil {
		return transport.ErrLoopStopped
	}
	return nil
}

// preTask is a task submitted before the loop began: fn runs when it
// begins; if it stops without having begun, orElse (if any) runs instead.
type preTask struct {
	fn, orElse func()
}

// submit runs fn on the loop inside a dispatch; before the loop starts, fn
// waits for it. Any goroutine.
func (l *loop) submit(fn func()) error { return l.submitOr(fn, nil) }

// submitOr is submit, with orElse to run (on a new goroutine) instead of fn
// if fn was queued before the loop began and the loop stops without having
// begun. Any goroutine.
func (l *loop) submitOr(fn, orElse func()) error {
	err := l.trigger(l.runTask, fn)
	if err != errNotStarted {
		return err
	}
	l.trigMu.Lock()
	defer l.trigMu.Unlock()
	if l.started { // started meanwhile
		if l.stopped {
			return transport.ErrLoopStopped
		}
		if l.poller.Trigger(queue.HighPriority, l.runTask, fn) != nil {
			return transport.ErrLoopStopped
		}
		return nil
	}
	if l.stopped {
		return transport.ErrLoopStopped
	}
	l.pre = append(l.pre, preTask{fn, orElse})
	return nil
}

// errNotStarted is trigger's answer before the loop started.
var errNotStarted = errors.New("reactor: loop not started")

// state reports whether the loop started and whether it stopped. Any goroutine.
func (l *loop) state() (started, stopped bool) {
	l.trigMu.RLock()
	defer l.trigMu.RUnlock()
	return l.started, l.stopped
}

// pin and unpin bracket everything the loop goroutine runs for the poller
// (events and tasks): while it runs, the goroutine is locked to its OS thread
// and the thread's id is recorded, so that Stop and StopListening, called
// from a callback, can tell that they run on this loop (a locked thread runs
// no other goroutine). Between dispatches the goroutine is not locked: gnet's
// Polling yields (runtime.Gosched) whenever a non-blocking wait finds
// nothing, and a locked goroutine's yield hands its thread over through the
// scheduler (measured: 13% more CPU per pipelined message). Loop goroutine.
func (l *loop) pin() {
	if l.pins == 0 {
		runtime.LockOSThread()
		l.tid.Store(threadID())
	}
	l.pins++
}

func (l *loop) unpin() {
	if l.pins--; l.pins == 0 {
		l.tid.Store(0)
		runtime.UnlockOSThread()
	}
}

// onLoop reports whether the calling goroutine is this loop's. Any goroutine.
func (l *loop) onLoop() bool {
	tid := l.tid.Load()
	return tid != 0 && tid == threadID()
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

// onEvent is the poller's callback: one readiness event for one descriptor.
// Loop goroutine.
func (l *loop) onEvent(fd int, ev netpoll.IOEvent, flags netpoll.IOFlags) error {
	l.pin()
	if fd < len(l.conns) {
		if c := l.conns[fd]; c != nil {
			l.enter()
			if c.sending != nil && writeEvent(ev, flags) {
				c.writable()
			}
			if readEvent(ev, flags) && c.lf&fClosed == 0 {
				c.readable(hangupEvent(ev, flags))
			}
			l.leave()
			l.unpin()
			return nil
		}
	}
	if p := l.ports[fd]; p != nil {
		l.enter()
		p.acceptReady()
		l.leave()
	} else if h := l.other[fd]; h != nil {
		l.enter()
		h.ready(ev, flags)
		l.leave()
	}
	l.unpin()
	return nil
}

// fdHandler is a descriptor of the loop that is neither a connection nor a
// listening TCP or UNIX port: a connect in progress, a UDP port.
type fdHandler interface {
	// ready handles one readiness event. Loop goroutine, inside a dispatch.
	ready(ev netpoll.IOEvent, flags netpoll.IOFlags)
	// shut closes the descriptor when the loop stops with it still
	// registered. Loop goroutine.
	shut()
}

// addOther registers h for fd's events (the caller adds fd to the poller).
// Loop goroutine.
func (l *loop) addOther(fd int, h fdHandler) { l.other[fd] = h }

// removeOther forgets fd, before it is closed. Loop goroutine.
func (l *loop) removeOther(fd int) { delete(l.other, fd) }

// addConn puts c in the descriptor table. Loop goroutine.
func (l *loop) addConn(c *conn) {
	fd := int(c.fd)
	if fd >= len(l.conns) {
		n := max(2*len(l.conns), fd+1, 64)
		grown := make([]*conn, n)
		copy(grown, l.conns)
		l.conns = grown
	}
	l.conns[fd] = c
	l.nopen++
}

// removeConn takes c out of the table, before its descriptor is closed (a new
// connection may get the same number at once). Loop goroutine.
func (l *loop) removeConn(c *conn) {
	fd := int(c.fd)
	if fd < len(l.conns) && l.conns[fd] == c {
		l.conns[fd] = nil
		l.nopen--
	}
	l.unwatch(c)
}

// openConn registers an accepted connection with the poller and makes it.
// Loop goroutine.
func (l *loop) openConn(c *conn) {
	if err := l.poller.AddRead(&netpoll.PollAttachment{FD: int(c.fd)}, true); err != nil {
		l.r.log.Warn().Err(err).Stringer("peer", c.remote).Msg("could not register connection; dropped")
		l.st.closed[ClosedLost].Add(1)
		unix.Close(int(c.fd))
		l.nconns.Add(-1)
		l.r.connDone()
		return
	}
	c.lf |= fRegR
	l.addConn(c)
	l.enter()
	c.open()
	l.leave()
}

// Output that the kernel refused is watched by one sweep per loop, which runs
// only while such output exists: it aborts connections whose output made no
// progress for the write-stall timeout (or the drain timeout while closing).

// watch adds c to the loop's slow connections. Loop goroutine.
func (l *loop) watch(c *conn) {
	x := c.ext()
	x.since = time.Now()
	if c.lf&fSlow != 0 {
		return
	}
	c.lf |= fSlow
	x.slowIdx = int32(len(l.slow))
	l.slow = append(l.slow, c)
	if d := c.p.cfg.sweepEvery(); !l.sweepOn && d > 0 {
		l.sweepOn = true
		time.AfterFunc(d, func() { _ = l.submit(l.sweepTask) })
	}
}

// unwatch removes c from the slow connections. Loop goroutine.
func (l *loop) unwatch(c *conn) {
	if c.lf&fSlow == 0 {
		return
	}
	c.lf &^= fSlow
	x := c.x.Load()
	i := int(x.slowIdx)
	last := len(l.slow) - 1
	l.slow[i] = l.slow[last]
	l.slow[i].x.Load().slowIdx = int32(i)
	l.slow[last] = nil
	l.slow = l.slow[:last]
}

// sweepEvery is how often the sweep runs for connections with this
// configuration: an eighth of the shorter timeout, between 10 ms and 1 s; 0
// when neither timeout is set. The loop sweeps as often as its most demanding
// slow connection needs.
func (cfg *config) sweepEvery() time.Duration {
	d := cfg.drainTimeout
	if s := cfg.stallTimeout; s > 0 && (d <= 0 || s < d) {
		d = s
	}
	if d <= 0 {
		return 0
	}
	return min(max(d/8, 10*time.Millisecond), time.Second)
}

func (l *loop) sweep() {
	l.sweepOn = false
	if len(l.slow) == 0 {
		return
	}
	now := time.Now()
	for i := len(l.slow) - 1; i >= 0; i-- {
		if i >= len(l.slow) {
			continue // aborts below may remove several
		}
		c := l.slow[i]
		cfg := c.p.cfg
		limit, cause := cfg.stallTimeout, transport.ErrWriteStalled
		if c.lf&(fDraining|fShutWrPending) != 0 {
			limit = cfg.drainTimeout
		}
		x := c.x.Load()
		if limit > 0 && now.Sub(x.since) >= limit {
			l.r.log.Warn().Stringer("peer", c.remote).Int64("buffered", c.queued.Load()).Dur("for", limit).Msg("output stalled; aborting connection")
			c.abortNow(transport.Aborted(cause))
		}
	}
	var next time.Duration
	for _, c := range l.slow {
		if d := c.p.cfg.sweepEvery(); d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	if next > 0 {
		l.sweepOn = true
		time.AfterFunc(next, func() { _ = l.submit(l.sweepTask) })
	}
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
	l.r.workers.run(l, fn, then, nil)
}
