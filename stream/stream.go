package stream

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// Defaults of the stream's settings, used where the setting is zero.
const (
	// DefaultMaxBufferSize bounds what a read may need buffered at once
	// when MaxBufferSize is 0: 100 MiB, Tornado's default.
	DefaultMaxBufferSize = 100 << 20
	// DefaultReadAhead is how much the stream reads ahead of the reads
	// asked for when ReadAhead is 0: 64 KiB, one read of the reactor's
	// loop (and Tornado's read_chunk_size).
	DefaultReadAhead = 64 << 10
)

// Received bytes are kept in blocks that are appended to and never written
// twice, so that a slice handed to a callback stays the callee's: the first
// block of a stream is small and each new one doubles, up to blockMax. A
// block is dropped once it is full and delivered.
const (
	blockMin = 64
	blockMax = 16 << 10
)

type readKind uint8

const (
	readNone readKind = iota
	readUntil
	readRegex
	readBytes
	readClose
	readInto
)

// Stream is Tornado's IOStream over a whirl connection: reads that complete
// with a callback (ReadUntil, ReadUntilRegex, ReadBytes, ReadUntilClose,
// ReadInto), one outstanding at a time, and writes whose optional callback
// is the flow-control signal. It is a protocol: a factory's BuildProtocol
// returns one made by [New] (TCPServer does), or a test connects one to a
// transporttest transport with protocol.MakeConnection.
//
// # Goroutines
//
// Every callback (the connected function given to New, read and write
// callbacks, the close callback) runs on the connection's loop, one at a
// time, as the protocol's own callbacks do; no goroutine is started per
// connection. The methods are for that loop too (from the callbacks, or
// from a timer of Transport().Loop()), except where a method says any
// goroutine. A callback never runs inside the call that set it up: a read
// that the buffered data completes at once calls back after the current
// callback returns.
//
// # Reading
//
// A read's callback gets the bytes (with the delimiter, for ReadUntil) and a
// nil error, or nil and an error once the read can no longer complete (see
// the package's errors). The data handed to a callback is the callee's to
// keep: the stream copies what it receives into blocks that it only appends
// to (the loop's receive buffer is reused, so a copy is needed), and never
// writes those bytes again. The slice's capacity ends at its length. The
// cost is one copy of each received byte and one allocation per block
// (blocks grow from 64 bytes to 16 KiB): 0.004 allocations per 64-byte
// message in steady state, and as much garbage as data received, which the
// garbage collector pays for (BenchmarkLineEcho, on the 2-core machine of
// docs/benchmarks.md: no measurable cost for 64-byte lines, about 1 µs per
// 4 KiB line against 0.13 µs with ReuseBuffer). An idle stream holds at most its last partly filled block (none
// once a block is full and delivered). With ReuseBuffer set, the data is
// lent instead, valid until the callback returns, and the stream reuses
// one buffer: the copy remains, the garbage goes.
//
// The stream reads from the socket only while a read is pending or while it
// has fewer than ReadAhead bytes buffered: past that it pauses its
// transport (Transport.PauseProducing), so a peer that sends what nobody
// asks for is pushed back by TCP, and resumes when a read needs more.
//
// Limits, as Tornado's: a read whose result would be longer than
// MaxBufferSize fails with [ErrStreamBufferFull]; a ReadUntil or
// ReadUntilRegex with maxBytes > 0 whose delimiter does not end within
// maxBytes fails with [ErrUnsatisfiableRead]. Both close the stream.
//
// # Writing
//
// Write copies the bytes into the transport's output buffer at once. Its
// done callback runs once those bytes were handed to the kernel: Tornado's
// write Future. At its first Write with a done (or with MaxWriteBufferSize
// set), the stream registers itself
// as its transport's pull producer (so do not register another), and a pull
// producer's ResumeProducing is called each time the transport's output
// buffer is empty: every byte written before that point has been taken by
// the kernel (the call that the registration itself makes is not counted).
// done therefore runs at the first moment after the write at which the
// transport's whole buffer was empty. That is exactly Tornado's Future when
// each write is awaited before the next (the flow-control idiom: read,
// write, wait for done, read again), and at most later, never earlier, when
// writes are made without waiting (Tornado resolves each write's Future as
// soon as its own bytes left, while later ones still wait; the Transport
// interface does not tell how much is buffered, only when it is empty). A
// peer that does not read keeps done from running, and a handler that
// waits for done before reading more stops reading: TCP pushes back on
// both sides, as with Tornado's "await stream.write".
//
// If the connection ends before the bytes left, done gets an error matching
// [ErrStreamClosed] and the reason; after a clean close (the reason matches
// transport.ErrConnectionDone, which the reactor reports only once the
// output was flushed) it gets nil.
type Stream struct {
	protocol.Base

	// MaxBufferSize bounds the bytes a read may need buffered at once (its
	// result); 0 means DefaultMaxBufferSize. Set it before the first read.
	// Loop goroutine.
	MaxBufferSize int
	// MaxWriteBufferSize bounds the stream's unsent output: a Write that
	// would take it past this fails with ErrStreamBufferFull. 0 means no
	// bound (Tornado's default). The unsent output counted is what was
	// written since the transport's buffer was last empty. Loop goroutine.
	MaxWriteBufferSize int
	// ReadAhead is how many bytes the stream buffers while no read is
	// pending before it pauses its transport; 0 means DefaultReadAhead.
	// It is capped at MaxBufferSize. Loop goroutine.
	ReadAhead int
	// ReuseBuffer lends the data given to read callbacks instead of giving
	// it: it is then valid only until the callback returns (copy what
	// must be kept), and the stream reuses its buffer, so that receiving
	// makes no garbage. For handlers that write the data back or parse it
	// at once (an echo, a proxy); see the type's documentation. Set it
	// before the first read. Loop goroutine.
	ReuseBuffer bool

	connected func(*Stream)
	prod      drainWatch
	later     func() // runLater, bound once

	// Received and not delivered: buf[off:]. buf is the current block.
	buf  []byte
	off  int
	scan int // readUntil: no delimiter starts in buf[off:scan]
	next int // the size of the next block

	// The pending read.
	kind    readKind
	delim   []byte
	re      *regexp.Regexp
	max     int // maxBytes (readUntil, readRegex) or n (readBytes)
	partial bool
	into    []byte
	got     int // readInto: bytes copied so far
	cb      func([]byte, error)
	intoCb  func(int, error)

	// Writes whose done has not run, and the bytes written since the
	// transport's buffer was last empty.
	dones  []func(error)
	unsent int

	closeCb func()
	reason  error // why the stream closed: its own error, or ConnectionLost's

	registered bool // the stream is its transport's pull producer
	primed     bool // the registration's own ResumeProducing came
	drainDue   bool // the transport's buffer was empty: run the dones
	busy       bool // a dispatch of this stream is running
	queued     bool // runLater is scheduled on the loop
	closing    bool // Close, a fault, or the connection ended: no more data
	lost       bool // ConnectionLost ran
	paused     bool // the stream paused its transport
	// eofServed: a ReadUntilClose got the end of the stream; another one,
	// with nothing buffered, fails (rather than getting "" for ever).
	eofServed bool
}

var _ protocol.Protocol = (*Stream)(nil)

// New returns a stream that calls connected once it is connected (from
// ConnectionMade, on the connection's loop), for a factory's BuildProtocol
// to return; connected may be nil. Any goroutine.
func New(connected func(s *Stream)) *Stream {
	return &Stream{connected: connected}
}

// drainWatch is the pull producer the stream registers with its transport:
// its ResumeProducing is the "buffer empty" signal that runs write
// callbacks. A type of its own keeps the producer methods off Stream.
type drainWatch struct{ s *Stream }

// PauseProducing does nothing: a pull producer is never paused.
// Connection's loop.
func (d *drainWatch) PauseProducing() {}

// ResumeProducing tells the stream that its transport's output buffer is
// empty. Connection's loop.
func (d *drainWatch) ResumeProducing() { d.s.drained() }

// StopProducing does nothing: ConnectionLost tells the stream. Connection's
// loop.
func (d *drainWatch) StopProducing() {}

// WrappedProducer returns the transport, so that the stream does not hold
// up a LoseConnection (transport.HoldsClose). Any goroutine.
func (d *drainWatch) WrappedProducer() transport.Producer { return d.s.Transport() }

// ConnectionMade calls the connected function. The reactor calls it; users do not. Loop
// goroutine.
func (s *Stream) ConnectionMade() {
	s.prod.s = s
	if s.connected == nil {
		return
	}
	s.dispatch(func() { s.connected(s) })
}

// DataReceived keeps data (a copy: data is not kept) and completes the
// pending read if it can. The reactor calls it; tests call it to feed the
// stream. Loop goroutine.
func (s *Stream) DataReceived(data []byte) {
	if s.closing {
		return
	}
	if s.kind == readInto && s.off == len(s.buf) {
		k := copy(s.into[s.got:], data) // straight into the caller's buffer
		s.got += k
		data = data[k:]
	}
	if s.busy {
		s.keep(data)
		return
	}
	s.busy = true
	ok := false
	defer s.unwind(&ok)
	// Block by block: what the reads take from a full block need not be
	// copied again, so blocks stay small whatever the size of data.
	for {
		data = s.fill(data)
		s.run()
		if len(data) == 0 || s.closing {
			break
		}
	}
	ok = true
}

// fill copies as much of p as the current block holds (starting a new block
// when it is full) and returns the rest.
func (s *Stream) fill(p []byte) []byte {
	if s.ReuseBuffer && s.off > 0 {
		// Between callbacks, the delivered bytes are nobody's any more.
		n := copy(s.buf, s.buf[s.off:])
		s.scan = max(s.scan-s.off, 0)
		s.buf, s.off = s.buf[:n], 0
	}
	if len(p) > 0 && len(s.buf) == cap(s.buf) {
		s.grow(1)
	}
	k := min(cap(s.buf)-len(s.buf), len(p))
	s.buf = append(s.buf, p[:k]...)
	return p[k:]
}

// ConnectionLost closes the stream with reason: a pending ReadUntilClose
// gets what was received, another pending read an error matching
// ErrStreamClosed and reason, the write callbacks still waiting nil (reason
// matches transport.ErrConnectionDone: the output was flushed) or that
// error, and then the close callback runs. The reactor calls it; tests call
// it. Loop goroutine.
func (s *Stream) ConnectionLost(reason error) {
	if s.lost {
		return
	}
	s.lost = true
	s.closing = true
	if s.reason == nil {
		s.reason = reason
	}
	s.busy = true
	ok := false
	defer s.unwind(&ok)
	s.run()
	var derr error
	if !errors.Is(reason, transport.ErrConnectionDone) {
		derr = s.closedErr()
	}
	s.runDones(derr)
	if cb := s.closeCb; cb != nil {
		s.closeCb = nil
		cb()
	}
	s.pump() // reads started by those callbacks
	ok = true
}

// dispatch runs fn as a dispatch of the stream, then completes what it
// made possible.
func (s *Stream) dispatch(fn func()) {
	if s.busy {
		fn()
		return
	}
	s.busy = true
	ok := false
	defer s.unwind(&ok)
	fn()
	s.run()
	ok = true
}

// unwind ends a dispatch. When a callback panicked (ok is false), the
// stream aborts its connection: the reactor recovers the panic, and for the
// producer's call only logs it.
func (s *Stream) unwind(ok *bool) {
	s.busy = false
	if !*ok {
		s.closing = true
		if t := s.Transport(); t != nil {
			t.AbortConnection()
		}
	}
}

// drained is the transport's "buffer empty" signal.
func (s *Stream) drained() {
	if !s.primed {
		// RegisterProducer's own first call, which says nothing of the
		// buffer: the writes made before it may still be waiting.
		s.primed = true
		s.releaseIfClosing()
		return
	}
	s.unsent = 0
	s.drainDue = true
	if s.busy {
		return
	}
	s.busy = true
	ok := false
	defer s.unwind(&ok)
	s.run()
	ok = true
	s.releaseIfClosing()
}

// releaseIfClosing unregisters the stream as its transport's producer once
// the transport is closing, so that a LoseConnection can finish: a pull
// producer is asked for more before a close, and holds it while registered.
func (s *Stream) releaseIfClosing() {
	if t := s.Transport(); t != nil && t.Disconnecting() {
		t.UnregisterProducer()
	}
}

// run completes what can be completed: write callbacks after a drain, the
// pending read while the buffer satisfies it (each callback may start the
// next one). Then it drops a spent block and pauses or resumes the
// transport. It runs only as the outermost dispatch of the stream.
func (s *Stream) run() {
	for {
		if s.drainDue {
			s.drainDue = false
			s.runDones(nil)
		}
		s.pump()
		if !s.drainDue {
			break
		}
	}
	s.settle()
}

// runDones calls the write callbacks registered so far with err; the ones
// they register wait for the next drain.
func (s *Stream) runDones(err error) {
	n := len(s.dones)
	if n == 0 {
		return
	}
	for i := 0; i < n; i++ {
		d := s.dones[i]
		s.dones[i] = nil
		d(err)
	}
	k := copy(s.dones, s.dones[n:])
	clear(s.dones[k:])
	s.dones = s.dones[:k]
}

// pump completes the pending read while it can.
func (s *Stream) pump() {
	for s.kind != readNone {
		if s.kind == readInto {
			if !s.fillInto() {
				return
			}
			continue
		}
		n, ok, err := s.find()
		if err != nil {
			s.fail(err)
			return
		}
		if !ok {
			if !s.closing {
				return
			}
			if s.kind == readClose && (!s.eofServed || s.off < len(s.buf)) {
				n = len(s.buf) - s.off
				s.eofServed = true
			} else {
				s.failRead(s.closedErr())
				return
			}
		}
		data := s.buf[s.off : s.off+n : s.off+n]
		s.off += n
		cb := s.cb
		s.clearRead()
		cb(data, nil)
	}
}

// fillInto copies buffered bytes into the ReadInto buffer and calls back
// when it is full (or, partial, has anything). It reports whether it
// called back.
func (s *Stream) fillInto() bool {
	k := copy(s.into[s.got:], s.buf[s.off:])
	s.off += k
	s.got += k
	if s.got < len(s.into) && (!s.partial || s.got == 0) {
		if s.closing {
			s.failRead(s.closedErr())
			return false
		}
		return false
	}
	n, cb := s.got, s.intoCb
	s.clearRead()
	cb(n, nil)
	return true
}

// failRead ends the pending read with err.
func (s *Stream) failRead(err error) {
	if s.kind == readInto {
		cb := s.intoCb
		s.clearRead()
		cb(0, err)
		return
	}
	cb := s.cb
	s.clearRead()
	cb(nil, err)
}

func (s *Stream) clearRead() {
	s.kind = readNone
	s.delim, s.re, s.into, s.cb, s.intoCb = nil, nil, nil, nil, nil
	s.got = 0
}

// fail closes the stream because of its own error err (a limit), as
// Tornado does: the transport is closed with err, and the pending read gets
// an error matching ErrStreamClosed and err.
func (s *Stream) fail(err error) {
	if s.reason == nil {
		s.reason = err
	}
	if !s.closing {
		s.closing = true
		if t := s.Transport(); t != nil {
			t.CloseWithError(err)
		}
	}
	s.drop()
	if s.kind != readNone {
		s.failRead(s.closedErr())
	}
}

// drop forgets the undelivered bytes (slices handed out stay valid).
func (s *Stream) drop() { s.buf, s.off, s.scan = nil, 0, 0 }

// closedErr is the error of a callback that the closing stream cannot
// serve: ErrStreamClosed, wrapping the reason when it is known.
func (s *Stream) closedErr() error {
	if s.reason == nil {
		return ErrStreamClosed
	}
	return fmt.Errorf("%w: %w", ErrStreamClosed, s.reason)
}

// settle drops the current block once it is full and delivered, and pauses
// the transport while no read is pending and ReadAhead bytes are buffered
// (resuming it otherwise).
func (s *Stream) settle() {
	if s.off == len(s.buf) && s.buf != nil && len(s.buf) == cap(s.buf) && !s.ReuseBuffer {
		s.buf, s.off, s.scan = nil, 0, 0
	}
	if s.closing {
		return
	}
	t := s.Transport()
	if t == nil {
		return
	}
	pause := s.kind == readNone && len(s.buf)-s.off >= s.readAhead()
	if pause == s.paused {
		return
	}
	s.paused = pause
	if pause {
		t.PauseProducing()
	} else {
		t.ResumeProducing()
	}
}

// keep appends p to the undelivered bytes, in the current block if it has
// room, else in a new block that starts with the undelivered bytes.
func (s *Stream) keep(p []byte) {
	if len(p) == 0 {
		return
	}
	if cap(s.buf)-len(s.buf) < len(p) {
		s.grow(len(p))
	}
	s.buf = append(s.buf, p...)
}

// grow starts a new block with the undelivered bytes and room for at least
// n more: the next block size (doubling from blockMin to blockMax), or
// twice what a long record needs.
func (s *Stream) grow(n int) {
	pending := s.buf[s.off:]
	size := max(s.next, blockMin)
	s.next = min(2*size, blockMax)
	if need := len(pending) + n; need > size {
		size = max(need, 2*len(pending))
	}
	nb := make([]byte, len(pending), size)
	copy(nb, pending)
	s.scan = max(s.scan-s.off, 0)
	s.buf, s.off = nb, 0
}

func (s *Stream) maxBuffer() int {
	if s.MaxBufferSize > 0 {
		return s.MaxBufferSize
	}
	return DefaultMaxBufferSize
}

func (s *Stream) readAhead() int {
	n := s.ReadAhead
	if n <= 0 {
		n = DefaultReadAhead
	}
	return min(n, s.maxBuffer())
}

// limit returns the longest result the pending read may have, and the
// error of a read that needs more: maxBytes with ErrUnsatisfiableRead when
// it is set and no larger than MaxBufferSize, else MaxBufferSize with
// ErrStreamBufferFull.
func (s *Stream) limit() (int, bool) {
	mb := s.maxBuffer()
	if s.max > 0 && s.max <= mb {
		return s.max, true
	}
	return mb, false
}

func (s *Stream) limitErr(what string) error {
	n, user := s.limit()
	if user {
		return fmt.Errorf("%w: %s not found within maxBytes (%d)", ErrUnsatisfiableRead, what, n)
	}
	return fmt.Errorf("%w: %s not found within MaxBufferSize (%d bytes)", ErrStreamBufferFull, what, n)
}

// find looks for the pending read's result in the undelivered bytes: its
// length and true when complete, false when more is needed, or the error
// of a read that cannot complete.
func (s *Stream) find() (int, bool, error) {
	pending := s.buf[s.off:]
	switch s.kind {
	case readUntil:
		lim, _ := s.limit()
		w := pending
		if len(w) > lim {
			w = w[:lim] // a result must end within it
		}
		from := min(max(s.scan-s.off, 0), len(w))
		if i := bytes.Index(w[from:], s.delim); i >= 0 {
			return from + i + len(s.delim), true, nil
		}
		if len(pending) >= lim {
			return 0, false, s.limitErr("delimiter")
		}
		s.scan = s.off + max(len(pending)-(len(s.delim)-1), 0)
		return 0, false, nil
	case readRegex:
		lim, _ := s.limit()
		if loc := s.re.FindIndex(pending); loc != nil {
			if loc[1] > lim {
				return 0, false, s.limitErr("regular expression match")
			}
			return loc[1], true, nil
		}
		if len(pending) > lim {
			return 0, false, s.limitErr("regular expression match")
		}
		return 0, false, nil
	case readBytes:
		switch {
		case len(pending) >= s.max:
			return s.max, true, nil
		case s.partial && len(pending) > 0:
			return len(pending), true, nil
		}
		return 0, false, nil
	case readClose:
		if mb := s.maxBuffer(); len(pending) > mb {
			return 0, false, fmt.Errorf("%w: more than MaxBufferSize (%d bytes) before the end of the stream", ErrStreamBufferFull, mb)
		}
		return 0, false, nil
	}
	return 0, false, nil
}

// start begins a read. A read that the buffered data (or a closed stream)
// completes at once calls back after the current callback returns: at the
// end of this stream's dispatch, or from a call scheduled on the loop.
func (s *Stream) start(kind readKind) {
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.kind = kind
	s.scan = s.off
	if s.busy {
		return // the dispatch in progress completes it
	}
	if s.closing || s.completesNow() {
		s.schedule()
		return
	}
	s.settle()
}

// completesNow reports whether the pending read would call back at once.
func (s *Stream) completesNow() bool {
	if s.kind == readInto {
		return s.off < len(s.buf) || len(s.into) == 0
	}
	_, ok, err := s.find()
	return ok || err != nil
}

// schedule makes the loop run the stream after the current callback.
func (s *Stream) schedule() {
	if s.queued {
		return
	}
	t := s.Transport()
	if t == nil {
		return
	}
	if s.later == nil {
		s.later = s.runLater // bound once, on this rare path
	}
	if t.Loop().CallSoon(s.later) == nil {
		s.queued = true
	}
}

// runLater is the dispatch scheduled by schedule.
func (s *Stream) runLater() {
	s.queued = false
	s.dispatch(func() {})
}

// ReadUntil reads until delim, and calls cb with everything up to and
// including it: Tornado's read_until. With maxBytes > 0, a delimiter that
// does not end within maxBytes fails the read with ErrUnsatisfiableRead
// and closes the stream; without, the bound is MaxBufferSize
// (ErrStreamBufferFull). delim is not copied: do not change it until cb
// runs. It panics with ErrAlreadyReading if a read is pending, and with
// ErrBadRead for an empty delim or a nil cb. Loop goroutine.
func (s *Stream) ReadUntil(delim []byte, maxBytes int, cb func(data []byte, err error)) {
	if len(delim) == 0 || cb == nil {
		panic(fmt.Errorf("%w: ReadUntil needs a delimiter and a callback", ErrBadRead))
	}
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.delim, s.max, s.cb = delim, max(maxBytes, 0), cb
	s.start(readUntil)
}

// ReadUntilRegex reads until re matches, and calls cb with everything up to
// the end of the match: Tornado's read_until_regex. re is matched against
// all the data buffered so far each time more arrives, and the first match
// found ends the read, as in Tornado: a pattern whose match depends on what
// follows (a+, \b, $) ends where the data received so far ends, so give
// patterns that end on definite bytes. With maxBytes > 0, a match that does
// not end within maxBytes fails with ErrUnsatisfiableRead; without, the
// bound is MaxBufferSize (ErrStreamBufferFull). Each search covers all the
// buffered data, so a peer that sends a long record in small pieces costs
// quadratic time: set maxBytes when the input is not trusted. Panics as
// ReadUntil does. Loop goroutine.
func (s *Stream) ReadUntilRegex(re *regexp.Regexp, maxBytes int, cb func(data []byte, err error)) {
	if re == nil || cb == nil {
		panic(fmt.Errorf("%w: ReadUntilRegex needs a regular expression and a callback", ErrBadRead))
	}
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.re, s.max, s.cb = re, max(maxBytes, 0), cb
	s.start(readRegex)
}

// ReadBytes reads n bytes and calls cb with them: Tornado's read_bytes.
// With partial, cb runs as soon as any bytes are buffered, with at most n.
// Without, a count larger than MaxBufferSize fails with
// ErrStreamBufferFull and closes the stream. ReadBytes(0, ...) calls back
// with no data. It panics with ErrAlreadyReading if a read is pending, and
// with ErrBadRead for a negative n or a nil cb. Loop goroutine.
func (s *Stream) ReadBytes(n int, partial bool, cb func(data []byte, err error)) {
	if n < 0 || cb == nil {
		panic(fmt.Errorf("%w: ReadBytes(%d) needs a count of 0 or more and a callback", ErrBadRead, n))
	}
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.max, s.partial, s.cb = n, partial, cb
	if !partial && n > s.maxBuffer() {
		s.kind = readBytes
		err := fmt.Errorf("%w: ReadBytes(%d) needs more than MaxBufferSize (%d bytes)", ErrStreamBufferFull, n, s.maxBuffer())
		s.closeFor(err)
		return
	}
	s.start(readBytes)
}

// closeFor fails the read just started with err, closing the stream, with
// the callback after the current one returns.
func (s *Stream) closeFor(err error) {
	if s.reason == nil {
		s.reason = err
	}
	if !s.closing {
		s.closing = true
		if t := s.Transport(); t != nil {
			t.CloseWithError(err)
		}
	}
	if !s.busy {
		s.schedule()
	}
}

// ReadUntilClose reads everything until the peer closes the connection (or
// the stream is closed) and calls cb with it: Tornado's read_until_close.
// More than MaxBufferSize bytes before the end fail with
// ErrStreamBufferFull and close the stream. On a stream that is already
// closed, cb gets what is still buffered, or, when nothing is and the end
// was already delivered, an error matching ErrStreamClosed. It panics with ErrAlreadyReading
// if a read is pending, and with ErrBadRead for a nil cb. Loop goroutine.
func (s *Stream) ReadUntilClose(cb func(data []byte, err error)) {
	if cb == nil {
		panic(fmt.Errorf("%w: ReadUntilClose needs a callback", ErrBadRead))
	}
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.cb = cb
	s.start(readClose)
}

// ReadInto fills buf and calls cb with the number of bytes copied into it:
// Tornado's read_into. With partial, cb runs as soon as any bytes were
// copied. buf is the caller's; the stream writes into it until cb runs.
// Bytes that arrive while buf is the only thing waiting for them are copied
// straight into it. It panics with ErrAlreadyReading if a read is pending,
// and with ErrBadRead for an empty buf or a nil cb. Loop goroutine.
func (s *Stream) ReadInto(buf []byte, partial bool, cb func(n int, err error)) {
	if len(buf) == 0 || cb == nil {
		panic(fmt.Errorf("%w: ReadInto needs a buffer and a callback", ErrBadRead))
	}
	if s.kind != readNone {
		panic(ErrAlreadyReading)
	}
	s.into, s.partial, s.intoCb, s.got = buf, partial, cb, 0
	s.start(readInto)
}

// Write writes data to the connection (a copy: data is not kept) and, if
// done is not nil, calls done once data was handed to the kernel (see
// Writing, in the type's documentation, for exactly when): Tornado's write
// and its Future. It returns an error, and done never runs, when the stream
// is closed (matching ErrStreamClosed and the reason) or when data would
// take the unsent output past MaxWriteBufferSize (matching
// ErrStreamBufferFull; the stream stays open). An empty data with a done is
// a flush barrier: done runs once everything written before it left.
// Loop goroutine.
func (s *Stream) Write(data []byte, done func(err error)) error {
	if s.closing {
		return s.closedErr()
	}
	if m := s.MaxWriteBufferSize; m > 0 && s.unsent+len(data) > m {
		return fmt.Errorf("%w: %d bytes unsent, writing %d more would pass MaxWriteBufferSize (%d)", ErrStreamBufferFull, s.unsent, len(data), m)
	}
	t := s.Transport()
	if t == nil {
		return ErrStreamClosed
	}
	if (done != nil || s.MaxWriteBufferSize > 0) && !s.registered {
		// The drain signal is needed from now on: the first done (or
		// bounded write), not the connection, pays for the registration
		// (and the reactor's per-connection state for a producer).
		if err := t.RegisterProducer(&s.prod, false); err != nil {
			if errors.Is(err, transport.ErrClosed) {
				return fmt.Errorf("%w: %w", ErrStreamClosed, err)
			}
			return fmt.Errorf("stream: Write with a done callback: %w", err)
		}
		s.registered = true
	}
	if _, err := t.Write(data); err != nil {
		return fmt.Errorf("%w: %w", ErrStreamClosed, err)
	}
	s.unsent += len(data)
	if done != nil {
		s.dones = append(s.dones, done)
	}
	return nil
}

// Close closes the stream: Tornado's close. Nothing more is read; a pending
// ReadUntilClose gets what was received, another pending read an error
// matching ErrStreamClosed (after the current callback returns), and so
// does any read started later: the bytes received and not delivered are
// dropped (Tornado keeps them readable, so that what a read after close
// gets depends on how the peer's data was split). What was
// written is flushed before the connection closes (unlike Tornado, which
// drops its unsent buffer), and the write callbacks waiting run as the
// output leaves. The close callback runs when the connection is gone.
// Calling it again does nothing. Loop goroutine.
func (s *Stream) Close() {
	if s.closing {
		return
	}
	s.closing = true
	if s.kind != readClose {
		s.drop() // what a pending ReadUntilClose does not take is dropped
	}
	if t := s.Transport(); t != nil {
		t.LoseConnection()
	}
	if s.kind != readNone && !s.busy {
		s.schedule()
	}
}

// SetCloseCallback sets the function called once the connection is gone
// (after ConnectionLost settled the pending callbacks): Tornado's
// set_close_callback. On a stream whose connection is already gone, fn
// runs after the current callback returns. nil removes it. Loop goroutine.
func (s *Stream) SetCloseCallback(fn func()) {
	if s.lost && fn != nil {
		if t := s.Transport(); t != nil {
			_ = t.Loop().CallSoon(fn)
		}
		return
	}
	s.closeCb = fn
}

// Closed reports whether the stream is closed or closing: Close was called,
// a read limit closed it, or the connection ended. Nothing more is read
// then; after the peer's close, reads complete from what is buffered (all
// the peer sent), as in Tornado. Loop goroutine.
func (s *Stream) Closed() bool {
	return s.closing || s.Transport() == nil || s.Transport().Disconnecting()
}

// Reading reports whether a read is pending. Loop goroutine.
func (s *Stream) Reading() bool { return s.kind != readNone }

// Writing reports whether bytes written to the stream may not have reached
// the kernel yet: some were written since the transport's buffer was last
// seen empty, or a write callback is waiting. Loop goroutine.
func (s *Stream) Writing() bool { return s.unsent > 0 || len(s.dones) > 0 }

// Unsent returns the bytes written since the transport's buffer was last
// seen empty: an upper bound of the stream's output that has not reached
// the kernel. The stream sees the buffer empty once it is its transport's
// producer, from its first Write with a done (or with MaxWriteBufferSize
// set); before, Unsent counts every byte written. A handler that writes without waiting for each done can wait
// only past a bound of its own: if s.Unsent() > limit, Write(nil, resume).
// Loop goroutine.
func (s *Stream) Unsent() int { return s.unsent }

// SetNoDelay turns Nagle's algorithm off (true, the reactor's default for
// accepted connections) or on: Tornado's set_nodelay. It returns the
// transport's error (transport.ErrClosed after close, ErrNotSupported on a
// UNIX socket). Any goroutine.
func (s *Stream) SetNoDelay(noDelay bool) error {
	t := s.Transport()
	if t == nil {
		return ErrStreamClosed
	}
	return t.SetTCPNoDelay(noDelay)
}

// RemoteAddr returns the peer's address, valid after close too. Any
// goroutine, once connected.
func (s *Stream) RemoteAddr() net.Addr {
	if t := s.Transport(); t != nil {
		return t.RemoteAddr()
	}
	return nil
}

// CloseReason reports why the stream closed: the error of the read limit
// that closed it (matching ErrStreamBufferFull or ErrUnsatisfiableRead), or
// else the connection's reason given to ConnectionLost. It is nil while the
// stream is open, and after Close until the connection is gone: Tornado's
// IOStream.error. Loop goroutine.
func (s *Stream) CloseReason() error { return s.reason }

// Buffered returns the number of bytes received and not yet delivered to a
// read. Loop goroutine.
func (s *Stream) Buffered() int { return len(s.buf) - s.off }
