package tlsproto

import "sync"

// Limiter bounds how many handshakes run at once (each on a goroutine of
// its own). A handshake that finds every place taken waits in a first-in,
// first-out queue, which costs no goroutine, until one ends; its timeout
// runs meanwhile. Share one Limiter between the connections it should
// bound: the reactor has one, sized by reactor.WithMaxTLSHandshakes.
//
// A Limiter must be made with [NewLimiter]. Its methods are safe to call
// from any goroutine.
type Limiter struct {
	mu     sync.Mutex
	max    int
	active int
	queue  []*Conn // waiting, from head; entries whose c.queued is false were withdrawn
	head   int
}

// NewLimiter returns a limiter of max handshakes at once; max of 0 or less
// means [DefaultMaxHandshakes]. Any goroutine.
func NewLimiter(max int) *Limiter {
	if max <= 0 {
		max = DefaultMaxHandshakes
	}
	return &Limiter{max: max}
}

// Active returns how many handshakes hold a place. Any goroutine.
func (l *Limiter) Active() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active
}

// Waiting returns how many handshakes wait for a place. Any goroutine.
func (l *Limiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.queue[l.head:] {
		if c.queued {
			n++
		}
	}
	return n
}

// acquire takes a place for c and reports true, or queues c and reports
// false: release will start c's handshake. Loop goroutine of c.
func (l *Limiter) acquire(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active < l.max {
		l.active++
		return true
	}
	c.queued = true
	l.queue = append(l.queue, c)
	return false
}

// release gives a handshake's place to the first one waiting, starting its
// goroutine, or frees it. Any goroutine.
func (l *Limiter) release() {
	l.mu.Lock()
	for l.head < len(l.queue) {
		c := l.queue[l.head]
		l.queue[l.head] = nil
		l.head++
		if !c.queued {
			continue // withdrawn: its connection went
		}
		c.queued = false
		l.compactLocked()
		l.mu.Unlock()
		go c.handshake() // the place passes to c
		return
	}
	l.queue, l.head = l.queue[:0], 0
	l.active--
	l.mu.Unlock()
}

// withdraw takes c out of the queue, if it waits. Loop goroutine of c.
func (l *Limiter) withdraw(c *Conn) {
	l.mu.Lock()
	c.queued = false
	l.mu.Unlock()
}

// compactLocked drops the queue's consumed head once it is most of it.
func (l *Limiter) compactLocked() {
	if l.head >= 64 && l.head*2 >= len(l.queue) {
		n := copy(l.queue, l.queue[l.head:])
		clear(l.queue[n:])
		l.queue, l.head = l.queue[:n], 0
	}
}
