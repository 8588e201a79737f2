package chat

import (
	"bytes"
	"sync"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// DefaultSendQ is a client's send-queue limit when Factory.SendQ is 0:
// 1 MiB, as IRC servers commonly allow.
const DefaultSendQ = 1 << 20

// MaxHold is how long a client whose send queue is over its soft limit may
// keep senders paused without making progress (reading enough for its
// output to drain below the low watermark). Past it, the client pauses no
// one until it makes progress again: the lines for it queue up to its
// SendQ, and a client that does not read is disconnected there.
const MaxHold = 100 * time.Millisecond

// maxWatermark is the largest high watermark set on a client's transport.
const maxWatermark = 64 << 10

// messageOverhead bounds what a message adds to a line: the sender's
// nickname (at most a bracketed IPv6 address with a zone and a port),
// ": " and CR LF.
const messageOverhead = 96

// limits are the send-queue sizes of one client, derived from its SendQ.
type limits struct {
	// high is the high watermark set on the client's transport, low the low
	// one: the transport buffers up to about high bytes before the room
	// queues; once full it drains to low before the queue is pumped again.
	high, low int
	// queue is how much the room's queue may hold: SendQ less high, the
	// transport's share once it reports full.
	queue int
	// soft is the queue length above which the client pauses the senders
	// of new lines (for MaxHold without progress); they are resumed once it
	// is back to soft/2.
	soft int
}

func newLimits(sendq int) limits {
	high := min(maxWatermark, max(sendq/8, 1))
	q := sendq - high
	return limits{high: high, low: max(high/4, 1), queue: q, soft: q / 4}
}

// member is one client of a room as the other clients see it: its
// transport and its send queue. Every byte written to the client goes
// through deliver (or the closing paths), under mu, so the queue and the
// transport's buffer form one ordered stream.
//
// The client's transport is "full" from its WriteBufferFull to its
// WriteBufferDrained (the watermarks are set from its SendQ). While it is
// not full and nothing is queued, deliver writes to the transport directly;
// otherwise deliver appends to the queue, and pump, on the client's loop,
// moves the queue into the transport in steps of about the high watermark,
// each ending at the end of a line, until the queue is empty or the
// transport full again.
type member struct {
	c    *Chat // identity only: its methods run on its own loop
	room *Room
	t    transport.Transport
	lim  limits

	mu      sync.Mutex
	nick    string    // the nickname, for the closing line
	q       sendQueue // bytes not handed to the transport yet
	full    bool      // the transport is over its high watermark
	pumping bool      // pump is scheduled or running
	gone    bool      // closed or closing: nothing more is written
	lastOK  time.Time // last time the transport was not full or drained
	waiters map[*member]struct{}
	timerOn bool     // checkHold is scheduled
	seq     [][]byte // pump's scratch space

	smu   sync.Mutex // guards holds (a leaf lock: taken under any mu)
	holds int        // recipients holding this member's lines; >0: paused

	pumpFn, checkFn func()
}

func newMember(c *Chat, r *Room, t transport.Transport, sendq int) *member {
	m := &member{c: c, room: r, t: t, lim: newLimits(sendq), nick: t.RemoteAddr().String()}
	m.pumpFn, m.checkFn = m.pump, m.checkHold
	return m
}

// deliver writes msg, one or more whole lines, to the client, or queues it
// if the client is behind. from is the member whose line it is (nil for a
// reply to the client itself): when the queue is over its soft limit and the
// client made progress within MaxHold, from is paused until the client has
// caught up. A message that would take the queue past its limit closes the
// client instead (see exceed). Any goroutine.
func (m *member) deliver(msg []byte, from *member) {
	m.mu.Lock()
	switch {
	case m.gone:
	case !m.full && m.q.n == 0:
		_, _ = m.t.Write(msg) // an error means the client is closing
	case m.q.n+len(msg) > m.lim.queue:
		m.exceedLocked()
		return
	default:
		m.q.push(msg)
		if from != nil && m.q.n > m.lim.soft {
			m.holdLocked(from)
		}
	}
	m.mu.Unlock()
}

// holdLocked pauses from until m catches up, unless m made no progress for
// MaxHold. m.mu held.
func (m *member) holdLocked(from *member) {
	if _, ok := m.waiters[from]; ok {
		return
	}
	left := MaxHold - m.t.Loop().Now().Sub(m.lastOK)
	if left <= 0 {
		return // m does not read: it may not hold the room up
	}
	if m.waiters == nil {
		m.waiters = make(map[*member]struct{})
	}
	m.waiters[from] = struct{}{}
	from.hold()
	if !m.timerOn {
		m.timerOn = true
		m.t.Loop().CallLater(left, m.checkFn)
	}
}

// checkHold releases the senders m holds once m made no progress for
// MaxHold, and looks again later otherwise. m's loop.
func (m *member) checkHold() {
	m.mu.Lock()
	m.timerOn = false
	if len(m.waiters) == 0 {
		m.mu.Unlock()
		return
	}
	if left := MaxHold - m.t.Loop().Now().Sub(m.lastOK); left > 0 {
		m.timerOn = true
		m.t.Loop().CallLater(left, m.checkFn)
		m.mu.Unlock()
		return
	}
	ws := m.takeWaitersLocked()
	m.mu.Unlock()
	release(ws)
}

// takeWaitersLocked empties the set of senders m holds and returns them,
// for release once m.mu is unlocked. m.mu held.
func (m *member) takeWaitersLocked() []*member {
	if len(m.waiters) == 0 {
		return nil
	}
	ws := make([]*member, 0, len(m.waiters))
	for w := range m.waiters {
		ws = append(ws, w)
	}
	clear(m.waiters)
	return ws
}

// release lets each of ws go on, as far as m is concerned.
func release(ws []*member) {
	for _, w := range ws {
		w.unhold()
	}
}

// hold pauses m's reading while a recipient holds its lines. Any goroutine.
func (m *member) hold() {
	m.smu.Lock()
	if m.holds++; m.holds == 1 {
		m.t.PauseProducing()
	}
	m.smu.Unlock()
}

// unhold resumes m's reading once no recipient holds its lines. Any
// goroutine.
func (m *member) unhold() {
	m.smu.Lock()
	if m.holds--; m.holds == 0 {
		m.t.ResumeProducing()
	}
	m.smu.Unlock()
}

// held reports whether a recipient holds m's lines. Any goroutine.
func (m *member) held() bool {
	m.smu.Lock()
	defer m.smu.Unlock()
	return m.holds > 0
}

// exceedLocked closes a client whose send queue passed its limit: the
// queue is dropped, an IRC-style ERROR line is written after what the
// transport holds, and the transport is closed with ErrSendQExceeded (the
// reactor logs it with the peer's address). The senders it held go on, and
// it leaves the room. m.mu held; it unlocks.
func (m *member) exceedLocked() {
	m.gone = true
	m.q.reset()
	ws := m.takeWaitersLocked()
	line := make([]byte, 0, len(closingLink)+len(m.nick)+len(sendQExceeded)+len(crlf))
	line = append(append(append(append(line, closingLink...), m.nick...), sendQExceeded...), crlf...)
	_, _ = m.t.Write(line)
	m.mu.Unlock()
	m.t.CloseWithError(ErrSendQExceeded)
	release(ws)
	m.room.leave(m.c)
}

// writeBufferFull records that the transport is over its high watermark:
// what follows is queued. m's loop.
func (m *member) writeBufferFull() {
	m.mu.Lock()
	m.full = true
	m.lastOK = m.t.Loop().Now()
	m.mu.Unlock()
}

// writeBufferDrained records that the transport drained below its low
// watermark, and pumps the queue. m's loop.
func (m *member) writeBufferDrained() {
	m.mu.Lock()
	m.full = false
	m.lastOK = m.t.Loop().Now()
	if m.gone || m.pumping || m.q.n == 0 {
		m.mu.Unlock()
		return
	}
	m.pumping = true
	m.mu.Unlock()
	m.pump()
}

// pump moves about a high watermark's worth of the queue into the
// transport, up to the end of a line, and schedules itself again while the
// queue is not empty and the transport not full. The senders m holds are
// released once the queue is back to half its soft limit. m's loop.
func (m *member) pump() {
	m.mu.Lock()
	if m.gone || m.full || m.q.n == 0 {
		m.pumping = false
		m.mu.Unlock()
		return
	}
	m.seq = m.q.peek(m.lim.high, m.seq[:0])
	n := 0
	for _, b := range m.seq {
		n += len(b)
	}
	_ = m.t.WriteSequence(m.seq) // an error means the client is closing
	clear(m.seq)
	m.q.discard(n)
	m.lastOK = m.t.Loop().Now()
	var ws []*member
	if m.q.n <= m.lim.soft/2 {
		ws = m.takeWaitersLocked()
	}
	if m.q.n == 0 || m.t.Loop().CallSoon(m.pumpFn) != nil {
		m.pumping = false
	}
	m.mu.Unlock()
	release(ws)
}

// setNick records the nickname for the closing line. m's loop.
func (m *member) setNick(nick string) {
	m.mu.Lock()
	m.nick = nick
	m.mu.Unlock()
}

// finish ends the member when its connection closes or is about to: the
// queue is written to the transport (flush, before LoseConnection) or
// dropped, nothing more is written, and the senders it held go on. Calling
// it again does nothing. m's loop.
func (m *member) finish(flush bool) {
	m.mu.Lock()
	if m.gone {
		m.mu.Unlock()
		return
	}
	m.gone = true
	if flush && m.q.n > 0 {
		m.seq = m.q.peek(m.q.n, m.seq[:0])
		_ = m.t.WriteSequence(m.seq)
		clear(m.seq)
	}
	m.q.reset()
	ws := m.takeWaitersLocked()
	m.mu.Unlock()
	release(ws)
}

// queued returns the bytes in m's queue. Any goroutine.
func (m *member) queued() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.q.n
}

// chunkSize is the size of the pieces of a send queue.
const chunkSize = 16 << 10

// chunkPool holds the pieces of send queues not in use.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// sendQueue is a queue of bytes in fixed-size chunks from chunkPool, so
// that it holds about what it counts, and gives the chunks back as they
// empty. Lines may span chunks. The zero value is empty.
type sendQueue struct {
	chunks []*[chunkSize]byte
	head   int // first byte not taken, in chunks[0]
	tail   int // bytes used in the last chunk
	n      int // bytes queued
}

// push appends p.
func (q *sendQueue) push(p []byte) {
	q.n += len(p)
	for len(p) > 0 {
		if len(q.chunks) == 0 || q.tail == chunkSize {
			q.chunks = append(q.chunks, chunkPool.Get().(*[chunkSize]byte))
			q.tail = 0
		}
		k := copy(q.chunks[len(q.chunks)-1][q.tail:], p)
		q.tail += k
		p = p[k:]
	}
}

// peek appends to dst the slices of the queue's first bytes: at least min
// of them (or all there are), up to and including the next LF, and returns
// dst. The slices stay valid until the queue is changed.
func (q *sendQueue) peek(min int, dst [][]byte) [][]byte {
	got := 0
	for i, ch := range q.chunks {
		start, end := 0, chunkSize
		if i == 0 {
			start = q.head
		}
		if i == len(q.chunks)-1 {
			end = q.tail
		}
		b := ch[start:end]
		if got+len(b) >= min {
			from := max(min-got-1, 0)
			if j := bytes.IndexByte(b[from:], '\n'); j >= 0 {
				return append(dst, b[:from+j+1])
			}
		}
		dst = append(dst, b)
		got += len(b)
	}
	return dst
}

// discard drops the first n bytes, giving emptied chunks back to the pool.
func (q *sendQueue) discard(n int) {
	q.n -= n
	for n > 0 {
		end := chunkSize
		if len(q.chunks) == 1 {
			end = q.tail
		}
		k := min(n, end-q.head)
		q.head += k
		n -= k
		if q.head == end {
			q.popChunk()
		}
	}
	if q.n == 0 {
		q.reset()
	}
}

// popChunk gives the first chunk back.
func (q *sendQueue) popChunk() {
	chunkPool.Put(q.chunks[0])
	q.chunks[0] = nil
	q.chunks = q.chunks[1:]
	q.head = 0
	if len(q.chunks) == 0 {
		q.chunks, q.tail = q.chunks[:0:0], 0
	}
}

// reset empties the queue, giving every chunk back.
func (q *sendQueue) reset() {
	for i, ch := range q.chunks {
		chunkPool.Put(ch)
		q.chunks[i] = nil
	}
	*q = sendQueue{}
}
