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

// DefaultHold is how long a client whose send queue is over its soft limit
// may keep the room's senders waiting without making progress, when
// Factory.Hold is 0. See Factory.Hold.
const DefaultHold = 250 * time.Millisecond

// SendQGrace is how long a client closed because its send queue was
// exceeded has to read what it was sent, its closing line included, before
// its connection is aborted. A client that does not read would otherwise
// keep the connection (and the server's reading of what it still sends) for
// the reactor's drain timeout.
const SendQGrace = 2 * time.Second

// maxWatermark is the largest high watermark set on a client's transport.
const maxWatermark = 64 << 10

// messageOverhead bounds what a message adds to a line: the sender's
// nickname (at most a bracketed IPv6 address with a zone and a port),
// ": " and CR LF.
const messageOverhead = 96

// maxBatch is the most a sender gathers of its lines before it delivers
// them to the room.
const maxBatch = 16 << 10

// limits are the send-queue settings of one client, derived from the
// factory's SendQ and Hold.
type limits struct {
	// hold is the factory's Hold: how long the client may hold the room
	// up without progress.
	hold time.Duration
	// high is the high watermark set on the client's transport, low the low
	// one. The transport holds at most high once the client's loop found it
	// below high (a checkpoint), plus high written since: past that the
	// room queues. Once full, it drains to low before the queue is pumped
	// again.
	high, low int
	// queue is how much the room's queue may hold: SendQ less the
	// transport's share (twice high).
	queue int
	// soft is the queue length above which the client pauses the senders
	// of new lines (for the hold time without progress); they are resumed once it
	// is back to soft/2.
	soft int
	// batch is how much of its lines a sender gathers before it delivers
	// them: one delivery per recipient per batch rather than per line.
	batch int
}

func newLimits(sendq int, hold time.Duration) limits {
	high := min(maxWatermark, max(sendq/8, 1))
	q := sendq - 2*high
	return limits{hold: hold, high: high, low: max(high/4, 1), queue: q, soft: q / 4, batch: min(maxBatch, max(q/8, 1))}
}

// member is one client of a room as the other clients see it: its
// transport and its send queue. Every byte written to the client goes
// through deliver (or the closing paths), under mu, so the queue and the
// transport's buffer form one ordered stream.
//
// The client's transport is "full" from its WriteBufferFull to its
// WriteBufferDrained (the watermarks are set from its SendQ). While it is
// not full, nothing is queued, and less than the high watermark was written
// since the last checkpoint, deliver writes to the transport directly;
// otherwise deliver appends to the queue and schedules pump on the client's
// loop. Writes from other loops are buffered by the transport and flushed
// by the client's loop, which checks the watermarks then; pump runs after
// that flush, so when it finds the transport not full, the transport holds
// less than the high watermark (the checkpoint). pump then moves the queue
// into the transport in steps of about the high watermark, each ending at
// the end of a line, until the queue is empty or the transport full again.
type member struct {
	c    *Chat // identity only: its methods run on its own loop
	room *Room
	t    transport.Transport
	lim  limits

	mu      sync.Mutex
	nick    string    // the nickname, for the closing line
	q       sendQueue // bytes not handed to the transport yet
	full    bool      // the transport is over its high watermark
	sent    int       // written to the transport since the last checkpoint
	pumping bool      // pump is scheduled or running
	gone    bool      // closed or closing: nothing more is written
	lastOK  time.Time // last time the client was not behind, or made progress
	holding bool      // counted in room.congested
	timerOn bool      // checkHold is scheduled
	seq     [][]byte  // pump's scratch space

	pumpFn, checkFn func()
}

func newMember(c *Chat, r *Room, t transport.Transport, lim limits) *member {
	m := &member{c: c, room: r, t: t, lim: lim, nick: t.RemoteAddr().String(), lastOK: t.Loop().Now()}
	m.pumpFn, m.checkFn = m.pump, m.checkHold
	return m
}

// deliver writes msg, one or more whole lines, to the client, or queues it
// if the client is behind. When the queue passes its soft limit and the
// client made progress within the hold time, the room is congested (senders wait)
// until the client caught up. A message that would take the queue past its
// limit closes the client instead (see exceedLocked). Any goroutine.
func (m *member) deliver(msg []byte) {
	m.mu.Lock()
	switch {
	case m.gone:
	case !m.full && m.q.n == 0 && (m.sent == 0 || m.sent+len(msg) <= m.lim.high):
		m.sent += len(msg)
		m.lastOK = m.t.Loop().Now() // not behind
		_, _ = m.t.Write(msg)       // an error means the client is closing
	case m.q.n+len(msg) > m.lim.queue:
		m.exceedLocked()
		return
	default:
		if m.q.n == 0 {
			m.lastOK = m.t.Loop().Now() // it falls behind now, not when it last got something
		}
		m.q.push(msg)
		if !m.full && !m.pumping {
			m.pumping = true
			if m.t.Loop().CallSoon(m.pumpFn) != nil {
				m.pumping = false // the loop stopped: the client is gone
			}
		}
		if !m.holding && m.q.n > m.lim.soft {
			m.holdLocked()
		}
	}
	m.mu.Unlock()
}

// holdLocked makes the room congested on m's behalf, unless m made no
// progress for the hold time: a client that does not read may not hold the room
// up. A timer ends the hold once m made no progress for the hold time. m.mu held.
func (m *member) holdLocked() {
	left := m.lim.hold - m.t.Loop().Now().Sub(m.lastOK)
	if left <= 0 {
		return
	}
	m.holding = true
	m.room.congest()
	if !m.timerOn {
		m.timerOn = true
		m.t.Loop().CallLater(left, m.checkFn)
	}
}

// unholdLocked ends m's hold on the room, if any. m.mu held.
func (m *member) unholdLocked() {
	if m.holding {
		m.holding = false
		m.room.decongest()
	}
}

// checkHold ends m's hold once m made no progress for the hold time, and looks
// again later otherwise. m's loop.
func (m *member) checkHold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timerOn = false
	if !m.holding {
		return
	}
	if left := m.lim.hold - m.t.Loop().Now().Sub(m.lastOK); left > 0 {
		m.timerOn = true
		m.t.Loop().CallLater(left, m.checkFn)
		return
	}
	m.unholdLocked()
}

// exceedLocked closes a client whose send queue passed its limit: the
// queue is dropped, an IRC-style ERROR line is written after what the
// transport holds, and the transport is closed with ErrSendQExceeded (the
// reactor logs it with the peer's address). Its hold on the room ends, and
// it leaves the room. m.mu held; it unlocks.
func (m *member) exceedLocked() {
	m.gone = true
	m.q.reset()
	m.unholdLocked()
	line := make([]byte, 0, len(closingLink)+len(m.nick)+len(sendQExceeded)+len(crlf))
	line = append(append(append(append(line, closingLink...), m.nick...), sendQExceeded...), crlf...)
	_, _ = m.t.Write(line)
	m.mu.Unlock()
	m.t.CloseWithError(ErrSendQExceeded)
	m.t.Loop().CallLater(SendQGrace, m.t.AbortConnection) // nothing once closed
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
	m.sent = 0 // nothing was written directly while it was full
	m.lastOK = m.t.Loop().Now()
	if m.gone || m.pumping || m.q.n == 0 {
		m.mu.Unlock()
		return
	}
	m.pumping = true
	m.mu.Unlock()
	m.pump()
}

// pump runs on m's loop after the transport's output was flushed and its
// watermarks checked. If the transport is not full, it holds less than the
// high watermark (the checkpoint): pump moves about a high watermark's worth
// of the queue into it, up to the end of a line, and schedules itself again
// while the queue is not empty. m's hold on the room ends once the queue is
// back to half its soft limit. m's loop.
func (m *member) pump() {
	m.mu.Lock()
	if m.gone || m.full {
		m.pumping = false
		m.mu.Unlock()
		return
	}
	m.sent = 0
	if m.q.n == 0 {
		m.pumping = false
		m.unholdLocked()
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
	m.sent = n
	m.lastOK = m.t.Loop().Now()
	if m.q.n <= m.lim.soft/2 {
		m.unholdLocked()
	}
	if m.t.Loop().CallSoon(m.pumpFn) != nil {
		m.pumping = false
	}
	m.mu.Unlock()
}

// setNick records the nickname for the closing line. m's loop.
func (m *member) setNick(nick string) {
	m.mu.Lock()
	m.nick = nick
	m.mu.Unlock()
}

// finish ends the member when its connection closes or is about to: the
// queue is written to the transport (flush, before LoseConnection) or
// dropped, nothing more is written, and its hold on the room ends. Calling
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
	m.unholdLocked()
	m.mu.Unlock()
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
