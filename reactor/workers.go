package reactor

import (
	"runtime/debug"
	"sync"

	"github.com/whirl-go/whirl/transport"
)

// workerPool runs DeferToGoroutine's blocking functions on at most max
// goroutines. Jobs wait in a queue when every worker is busy; workers are
// started on demand and live until the reactor stops.
type workerPool struct {
	max int

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []job
	workers int
	idle    int
	stopped bool
}

type job struct {
	l    *loop
	fn   func() (any, error)
	then func(any, error)
	c    *conn // the connection whose loop runs then, or nil for the reactor's
}

func newWorkerPool(max int) *workerPool {
	p := &workerPool{max: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// run queues fn; then runs on l (guarded by c if it is not nil). After the
// pool stopped, then is called with ErrLoopStopped on a new goroutine.
// Any goroutine.
func (p *workerPool) run(l *loop, fn func() (any, error), then func(any, error), c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		if then != nil {
			go l.r.callStopped(then)
		}
		return
	}
	p.queue = append(p.queue, job{l, fn, then, c})
	if p.idle > 0 {
		p.cond.Signal()
		return
	}
	if p.workers < p.max {
		p.workers++
		go p.work()
	}
}

func (p *workerPool) work() {
	p.mu.Lock()
	for {
		for len(p.queue) == 0 && !p.stopped {
			p.idle++
			p.cond.Wait()
			p.idle--
		}
		if p.stopped {
			p.workers--
			p.mu.Unlock()
			return
		}
		j := p.queue[0]
		p.queue[0] = job{}
		p.queue = p.queue[1:]
		p.mu.Unlock()
		res, err := callJob(j.fn)
		if j.then != nil {
			j.finish(res, err)
		}
		p.mu.Lock()
	}
}

func callJob(fn func() (any, error)) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &transport.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// finish runs then on the job's loop, or, if that loop stopped, calls it with
// ErrLoopStopped here. Worker goroutine.
func (j job) finish(res any, err error) {
	then, c := j.then, j.c
	task := func() { then(res, err) }
	if c != nil {
		task = func() { c.guard("DeferToGoroutine callback", func() { then(res, err) }) }
	}
	if j.l.submitOr(task, func() { j.l.r.callStopped(then) }) != nil {
		j.l.r.callStopped(then)
	}
}

// stop ends the workers; jobs still queued get ErrLoopStopped. Any goroutine.
func (p *workerPool) stop() {
	p.mu.Lock()
	p.stopped = true
	queued := p.queue
	p.queue = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, j := range queued {
		if j.then != nil {
			go j.l.r.callStopped(j.then)
		}
	}
}

// callStopped calls then with ErrLoopStopped, logging a panic. Any goroutine.
func (r *Reactor) callStopped(then func(any, error)) {
	r.safeCall("DeferToGoroutine callback", func() { then(nil, transport.ErrLoopStopped) })
}
