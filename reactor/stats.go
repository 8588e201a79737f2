package reactor

import (
	"errors"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/transport"
)

// loopStats are one loop's counters. Each is written by its loop (the data
// path adds to counters nobody else writes, so the atomic adds never
// contend) or, for the few that other goroutines change (pauses), with an
// atomic add; Stats reads them from any goroutine.
type loopStats struct {
	accepted, connected, refused atomic.Int64
	closed                       [numCloseClasses]atomic.Int64
	bytesIn, bytesOut            atomic.Int64
	paused                       atomic.Int64 // gauge: transports with reading paused
	buffered                     atomic.Int64 // gauge: output bytes the kernel refused, held
	delay                        [delayBuckets]atomic.Int64
	delaySum                     atomic.Int64 // nanoseconds
	delayCount                   atomic.Int64
	probeAt                      atomic.Int64 // when the pending probe was submitted (unix ns), or 0
}

// CloseClass is why connections closed, as Stats counts them.
type CloseClass int

// The classes of CloseClass, from the reason ConnectionLost got. A reason
// is counted in the first class it matches, in this order.
const (
	// ClosedStopDeadline: aborted because Stop's deadline passed.
	ClosedStopDeadline CloseClass = iota
	// ClosedOverflow: aborted because a write passed the output hard cap.
	ClosedOverflow
	// ClosedStalled: aborted because output made no progress (write stall or
	// drain timeout).
	ClosedStalled
	// ClosedIdle: closed by the read idle timeout.
	ClosedIdle
	// ClosedLinger: the lingering close timed out with bytes unacknowledged.
	ClosedLinger
	// ClosedProtocolError: closed with Transport.CloseWithError (a peer's
	// fault: bad input, a protocol violation).
	ClosedProtocolError
	// ClosedAborted: aborted otherwise (AbortConnection, a panic).
	ClosedAborted
	// ClosedLost: ended uncleanly (reset, I/O error).
	ClosedLost
	// ClosedDone: closed cleanly, by either side.
	ClosedDone
	numCloseClasses
)

var closeClassNames = [numCloseClasses]string{
	"stop_deadline", "write_overflow", "write_stalled", "idle_timeout",
	"linger_timeout", "protocol_error", "aborted", "lost", "done",
}

// String returns the class's name in snake case ("idle_timeout"), as a
// metric label. Any goroutine.
func (c CloseClass) String() string {
	if c < 0 || c >= numCloseClasses {
		return "unknown"
	}
	return closeClassNames[c]
}

// CloseClasses lists every CloseClass, in Stats.Closed's order. Any
// goroutine.
func CloseClasses() []CloseClass {
	cs := make([]CloseClass, numCloseClasses)
	for i := range cs {
		cs[i] = CloseClass(i)
	}
	return cs
}

// closeClass returns the class of a close reason.
func closeClass(reason error, protocolError bool) CloseClass {
	switch {
	case errors.Is(reason, ErrStopDeadline):
		return ClosedStopDeadline
	case errors.Is(reason, transport.ErrWriteBufferOverflow):
		return ClosedOverflow
	case errors.Is(reason, transport.ErrWriteStalled):
		return ClosedStalled
	case errors.Is(reason, transport.ErrIdleTimeout):
		return ClosedIdle
	case errors.Is(reason, transport.ErrLingerTimeout):
		return ClosedLinger
	case protocolError:
		return ClosedProtocolError
	case errors.Is(reason, transport.ErrConnectionAborted):
		return ClosedAborted
	case errors.Is(reason, transport.ErrConnectionLost):
		return ClosedLost
	}
	return ClosedDone
}

// The task-queue delay histogram: bucket i counts delays below 2^i µs
// (bucket 0: under 1 µs), the last one everything longer.
const delayBuckets = 24

// probeEvery is how often each loop measures its task-queue delay: a probe
// task submitted from another goroutine, timed until it runs.
const probeEvery = 250 * time.Millisecond

// startProbe starts the loop's delay probe. Loop goroutine.
func (l *loop) startProbe() {
	var probe func()
	probe = func() {
		at := l.st.probeAt.Swap(0)
		if at == 0 {
			return
		}
		l.st.observeDelay(time.Duration(time.Now().UnixNano() - at))
	}
	var tick func()
	tick = func() {
		if started, stopped := l.state(); !started || stopped {
			return
		}
		if l.st.probeAt.CompareAndSwap(0, time.Now().UnixNano()) {
			if l.submit(probe) != nil {
				return
			}
		}
		time.AfterFunc(probeEvery, tick)
	}
	time.AfterFunc(probeEvery, tick)
}

func (s *loopStats) observeDelay(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	i := bits.Len64(us) // 0 for < 1 µs; k for [2^(k-1), 2^k) µs
	if i >= delayBuckets {
		i = delayBuckets - 1
	}
	s.delay[i].Add(1)
	s.delaySum.Add(int64(d))
	s.delayCount.Add(1)
}

// Stats is a snapshot of what the reactor counted since New: the answer to
// "how many connections, how much buffered, why did they close, is a loop
// falling behind". Counters only grow; the gauges (ConnsOpen, Paused,
// Buffered) are current values. Each field is read atomically, the snapshot
// as a whole is not: fields may be a moment apart.
type Stats struct {
	// Loops is the number of event loops.
	Loops int
	// ConnsOpen is the connections open now (accepted or connected, not yet
	// closed).
	ConnsOpen int64
	// Accepted counts connections accepted on the reactor's ports;
	// Connected, connections made by its connectors.
	Accepted, Connected int64
	// Refused counts connections closed at once because the factory (or a
	// policy wrapping it) returned no protocol.
	Refused int64
	// Closed counts closed connections by class, indexed by CloseClass.
	Closed [numCloseClasses]int64
	// BytesIn and BytesOut count bytes read from and written to the
	// reactor's connections.
	BytesIn, BytesOut int64
	// Paused is the connections whose reading is paused now.
	Paused int64
	// Buffered is the output bytes the kernel refused, held by the reactor
	// now (output written in a callback is handed to the kernel when the
	// callback returns, so between callbacks this is all that waits).
	Buffered int64
	// AcceptErrors counts failed accepts (EMFILE and the like).
	AcceptErrors int64
	// QueueDelay is how long work submitted to a loop from another goroutine
	// waited before it ran, sampled every 250 ms per loop.
	QueueDelay DelayHistogram
	// Ports has one entry per listening port.
	Ports []PortStats
}

// DelayHistogram is a histogram of durations with power-of-two buckets.
type DelayHistogram struct {
	// Bounds are the buckets' upper bounds (1 µs, 2 µs, 4 µs, ...); the last
	// bucket, Counts[len(Bounds)], has no upper bound.
	Bounds []time.Duration
	// Counts are the observations per bucket (not cumulative).
	Counts []int64
	// Count and Sum are the number and the sum of the observations.
	Count int64
	Sum   time.Duration
}

// PortStats are one listening port's counters.
type PortStats struct {
	// Addr is the port's address.
	Addr string
	// Accepted counts the connections it accepted; AcceptErrors its failed
	// accepts.
	Accepted, AcceptErrors int64
}

// Stats returns the reactor's counters. It reads atomics only: it never
// waits for a loop, and costs the data path nothing. Any goroutine.
func (r *Reactor) Stats() Stats {
	s := Stats{Loops: len(r.loops)}
	s.QueueDelay.Bounds = make([]time.Duration, delayBuckets-1)
	for i := range s.QueueDelay.Bounds {
		s.QueueDelay.Bounds[i] = time.Duration(1<<i) * time.Microsecond
	}
	s.QueueDelay.Counts = make([]int64, delayBuckets)
	var closed int64
	for _, l := range r.loops {
		st := &l.st
		s.Accepted += st.accepted.Load()
		s.Connected += st.connected.Load()
		s.Refused += st.refused.Load()
		for i := range s.Closed {
			n := st.closed[i].Load()
			s.Closed[i] += n
			closed += n
		}
		s.BytesIn += st.bytesIn.Load()
		s.BytesOut += st.bytesOut.Load()
		s.Paused += st.paused.Load()
		s.Buffered += st.buffered.Load()
		for i := range s.QueueDelay.Counts {
			s.QueueDelay.Counts[i] += st.delay[i].Load()
		}
		s.QueueDelay.Count += st.delayCount.Load()
		s.QueueDelay.Sum += time.Duration(st.delaySum.Load())
	}
	s.ConnsOpen = s.Accepted + s.Connected - closed
	r.mu.Lock()
	for p := range r.ports {
		ps := PortStats{Addr: p.addr.String(), Accepted: p.accepted.Load(), AcceptErrors: p.acceptErrors.Load()}
		s.AcceptErrors += ps.AcceptErrors
		s.Ports = append(s.Ports, ps)
	}
	s.AcceptErrors += r.acceptErrorsGone
	r.mu.Unlock()
	return s
}
