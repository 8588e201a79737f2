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
}

func newWorkerPool(max int) *workerPool {
	p := &workerPool{max: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *workerPool) run(l *loop, fn func() (any, error), then func(any, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.queue = append(p.queue, job{l, fn, then})
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
			then := j.then
			_ = j.l.submit(func() { then(res, err) })
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

func (p *workerPool) stop() {
	p.mu.Lock()
	p.stopped = true
	p.queue = nil
	p.cond.Broadcast()
	p.mu.Unlock()
}
