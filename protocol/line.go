package protocol

import (
	"bytes"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/whirl-go/whirl/transport"
)

// Defaults of the line protocols' settings, used where the setting is zero.
const (
	// DefaultLineDelimiter separates lines when Delimiter is "": CR LF, as in
	// Twisted and most Internet text protocols.
	DefaultLineDelimiter = "\r\n"
	// DefaultMaxLineLength is the longest line accepted when MaxLength is 0,
	// in bytes, not counting the delimiter.
	DefaultMaxLineLength = 16384
)

const (
	// lineBufMin is the smallest buffer made for an incomplete line.
	lineBufMin = 256
	// lineBufRetain is the largest buffer kept once it is empty: bigger ones
	// are dropped, so that an idle connection that once received a long line
	// does not hold on to it.
	lineBufRetain = 4 << 10
)

// stringBytes returns the bytes of d without copying them. They are only
// ever read: searched for, and copied into a transport's output by
// WriteSequence, whose contract (like io.Writer's) forbids changing them.
// Each receiver would otherwise keep its own copy of the delimiter.
func stringBytes(d string) []byte { return unsafe.Slice(unsafe.StringData(d), len(d)) }

// LineHandler is what a protocol embedding [LineReceiver] or
// [LineOnlyReceiver] implements to receive lines. A compile-time assertion
// catches a misspelt method:
//
//	type Chat struct{ protocol.LineReceiver }
//
//	func (c *Chat) LineReceived(line []byte) { ... }
//
//	var _ protocol.LineHandler = (*Chat)(nil)
//
// Without it, [MakeConnection] refuses the connection with an error matching
// [ErrNoLineReceived].
type LineHandler interface {
	// LineReceived is called with each line, without its delimiter. line is
	// valid only until LineReceived returns: copy what must be kept. Loop
	// goroutine.
	LineReceived(line []byte)
}

// The other methods a line protocol looks for on the user's value (Base.Self).
type (
	rawDataHandler    interface{ RawDataReceived(data []byte) }
	lineLengthHandler interface{ LineLengthExceeded(remainder []byte) }
)

// LineReceiver is embedded by protocols made of lines: Twisted's
// basic.LineReceiver, with its raw mode. The protocol defines
//
//	LineReceived(line []byte)
//
// which is called with each line received, without its delimiter. The line
// is valid only until LineReceived returns: it points into the received data
// (or into the receiver's buffer, for a line that arrived in several pieces),
// so copy what must be kept. Its capacity ends at its length, so appending to
// it copies.
//
//	type Chat struct {
//		protocol.LineReceiver
//		room *Room
//	}
//
//	func (c *Chat) LineReceived(line []byte) { c.room.Broadcast(c, line) }
//
// After [LineReceiver.SetRawMode] the data goes instead, as it comes, to the
// protocol's
//
//	RawDataReceived(data []byte)
//
// until [LineReceiver.SetLineMode]. Either call may be made from inside
// LineReceived or RawDataReceived: the rest of the data already received goes
// to the new mode.
//
// A line longer than MaxLength (a complete one, or an unfinished one already
// MaxLength+len(Delimiter) bytes long, which cannot end in time) calls the
// protocol's LineLengthExceeded, which defaults to
// [LineReceiver.LineLengthExceeded]: close the connection with
// Transport().CloseWithError and an error matching [ErrLineTooLong] that gives
// the sizes (see [LineReceiver.Err]: ConnectionLost's reason matches both it and
// transport.ErrConnectionAborted). No line (and no raw data) is delivered
// once the transport is disconnecting, so a LoseConnection inside
// LineReceived stops the lines that follow it in the same chunk; data
// received after that point is discarded.
//
// Pausing: [LineReceiver.PauseProducing] (from LineReceived, or from any
// goroutine) stops the delivery at once, before the next line, and pauses
// the transport; the lines already received stay buffered until
// [LineReceiver.ResumeProducing], as with Twisted's LineReceiver, which is a
// producer for the same reason. Calling Transport().PauseProducing()
// directly stops reading from the socket, but the receiver cannot see that
// pause (the Transport interface does not tell), so it still delivers the
// lines of the chunk it holds; use the receiver's methods to pause delivery.
//
// The receiver finds LineReceived, RawDataReceived and LineLengthExceeded on
// the value given to [MakeConnection] (see [Base.Self]), once, before
// ConnectionMade. A protocol without a LineReceived method ([LineHandler])
// is a programming error: MakeConnection refuses the connection, closing it
// with an error matching [ErrNoLineReceived] that names its type, before any
// data is read. SetRawMode panics with [ErrNoRawDataReceived] when the
// protocol has no RawDataReceived; the reactor logs the panic and aborts the
// connection.
//
// Memory: the receiver buffers only the incomplete line at the end of the
// data received so far, at most MaxLength+len(Delimiter)-1 bytes, growing
// the buffer with the data (never ahead of it), and drops a large buffer once
// it is empty. Complete lines are handed over from the received data without
// being copied. Data fed back from inside a callback (SetLineMode's extra, a
// nested DataReceived), and the rest of the data held while paused, are
// copied into the buffer, and may take it past that bound until they are
// split.
//
// All of LineReceiver's methods run on the connection's loop goroutine.
type LineReceiver struct {
	Base

	// Delimiter ends each line, received and sent. "" means
	// DefaultLineDelimiter ("\r\n"). Set it in BuildProtocol or
	// ConnectionMade; a change takes effect from the next line. Loop
	// goroutine.
	Delimiter string

	// MaxLength is the longest line accepted, in bytes, not counting the
	// delimiter; 0 (or less) means DefaultMaxLineLength (16384). It bounds
	// the receiver's buffer. Set it in BuildProtocol or ConnectionMade. Loop
	// goroutine.
	MaxLength int

	s      lineSplitter
	lines  LineHandler
	rawh   rawDataHandler
	exceed lineLengthHandler
}

// DataReceived splits data into lines and delivers them to the protocol's
// LineReceived, keeping an incomplete last line until the rest of it comes;
// in raw mode it passes the data to RawDataReceived. Called from inside one of
// those (directly or through SetLineMode), it queues data behind what is not
// delivered yet, as Twisted does. While the receiver is paused
// ([LineReceiver.PauseProducing]) it only keeps data. data is valid only
// until DataReceived returns, and is not kept. Loop goroutine.
func (r *LineReceiver) DataReceived(data []byte) {
	s := &r.s
	if s.busy {
		s.queue(data)
		return
	}
	t := r.Transport()
	if t != nil && t.Disconnecting() {
		return
	}
	if r.lines == nil {
		r.lines, r.exceed = findLineHandlers(r.Self(), "LineReceiver", r)
	}
	if s.isPaused() {
		s.hold(data, r.Delimiter, r.MaxLength, t)
		return
	}
	r.deliver(data)
}

// deliver is DataReceived's loop: it hands over the lines (or raw data) of
// what is buffered followed by data, until it runs out, the receiver is
// paused or the transport is disconnecting. Loop goroutine.
func (r *LineReceiver) deliver(data []byte) {
	s := &r.s
	s.busy = true
	defer s.finish()
	s.rest = data
	t := r.Transport()
	for {
		if t != nil && t.Disconnecting() {
			return
		}
		if s.isPaused() || transportPaused(t) {
			s.keepRest(r.Delimiter, r.MaxLength)
			return
		}
		if r.s.raw {
			chunk := s.takeRaw()
			if len(chunk) == 0 {
				return
			}
			r.rawh.RawDataReceived(chunk)
			continue
		}
		line, step := s.next(s.delimiter(r.Delimiter), lineMax(r.MaxLength))
		switch step {
		case lineFound:
			r.lines.LineReceived(line)
		case lineTooLong:
			s.err = lineTooLongError(line, s.delimiter(r.Delimiter), lineMax(r.MaxLength))
			r.exceed.LineLengthExceeded(line)
		default:
			return
		}
	}
}

// bindHandlers finds the protocol's LineReceived and LineLengthExceeded,
// before ConnectionMade; see [MakeConnection]. Loop goroutine.
func (r *LineReceiver) bindHandlers(p Protocol) (err error) {
	r.lines, r.exceed, err = lineHandlersOf(p, "LineReceiver", r)
	return err
}

// PauseProducing stops delivering lines (or raw data) at once, and pauses
// the transport so that the peer is pushed back: Twisted's
// LineReceiver.pauseProducing. Called from LineReceived, it is the last line
// delivered until [LineReceiver.ResumeProducing], even if more lines arrived
// in the same chunk: they stay buffered, with what arrives before the
// transport stops reading. With ResumeProducing and StopProducing it makes
// the protocol a [transport.Producer] that stands in for its transport
// ([LineReceiver.WrappedProducer]), so it may be registered as its own
// transport's producer. Any goroutine.
func (r *LineReceiver) PauseProducing() { pauseReceiver(&r.s, r.Transport()) }

// ResumeProducing undoes PauseProducing: the lines held back are delivered,
// then the transport reads again (unless a line paused it anew). The
// delivery runs on the connection's loop after the current callback returns
// (through the transport's Loop().CallSoon), whichever goroutine calls it.
// Any goroutine.
func (r *LineReceiver) ResumeProducing() {
	resumeReceiver(&r.s, r.Transport(), func() { r.deliver(nil) })
}

// ReadingResumed delivers the lines (or raw data) that a pause of the
// transport (Transport().PauseProducing, from LineReceived or another
// goroutine) held back; the reactor calls it when the transport's
// ResumeProducing lifts the pause (protocol.ReadResumer). Loop goroutine.
func (r *LineReceiver) ReadingResumed() {
	if !r.s.busy && !r.s.isPaused() && r.lines != nil {
		r.deliver(nil)
	}
}

// StopProducing stops delivering lines and closes the transport
// (Transport().StopProducing, which is LoseConnection). Any goroutine.
func (r *LineReceiver) StopProducing() { stopReceiver(&r.s, r.Transport()) }

// WrappedProducer returns the transport, whose pause PauseProducing and
// ResumeProducing drive: it makes the receiver a
// [transport.ProducerWrapper], so that registered as its own transport's
// producer it does not hold a LoseConnection up ([transport.HoldsClose]).
// Any goroutine.
func (r *LineReceiver) WrappedProducer() transport.Producer { return r.Transport() }

// SetRawMode sends the data that follows, starting with what is already
// received and not delivered, to the protocol's RawDataReceived instead of
// splitting it into lines. It panics with an error matching
// [ErrNoRawDataReceived] if the protocol has no RawDataReceived(data []byte)
// method. Loop goroutine.
func (r *LineReceiver) SetRawMode() {
	if r.rawh == nil {
		self := r.Self()
		h, ok := self.(rawDataHandler)
		if !ok {
			panic(fmt.Errorf("%w: %T has no RawDataReceived(data []byte) method", ErrNoRawDataReceived, self))
		}
		r.rawh = h
	}
	r.s.raw = true
}

// SetLineMode goes back to splitting the data into lines, and feeds extra to
// the receiver as if it had just been received, after whatever is buffered
// (Twisted's setLineMode(extra)). It is typically called from
// RawDataReceived with the part of the raw data that belongs to the line
// protocol; there, extra is copied and split once RawDataReceived returns.
// Loop goroutine.
func (r *LineReceiver) SetLineMode(extra []byte) {
	r.s.raw = false
	if len(extra) > 0 {
		r.DataReceived(extra)
	}
}

// ClearLineBuffer empties the receiver's buffer and returns what it held: the
// incomplete line received so far, and, when called from LineReceived or
// RawDataReceived, the rest of the data received with the current chunk,
// which is then not delivered. The result belongs to the caller; it is nil
// when nothing was buffered. Loop goroutine.
func (r *LineReceiver) ClearLineBuffer() []byte { return r.s.clear() }

// Buffered returns the number of bytes received but not delivered yet: the
// incomplete line, and, from inside LineReceived or RawDataReceived, the rest
// of the current chunk. Loop goroutine.
func (r *LineReceiver) Buffered() int { return r.s.buffered() }

// SendLine writes line followed by the delimiter, in one WriteSequence. It
// does not check that line is free of the delimiter, nor its length. It
// returns the transport's error (transport.ErrClosed once the connection is
// closing or before MakeConnection). Any goroutine (so a chat room can send a
// line to another member), as long as Delimiter is not being changed at the
// same time; it allocates nothing unless two goroutines send on one receiver
// at once.
func (r *LineReceiver) SendLine(line []byte) error {
	return r.s.sendLine(r.Transport(), line, r.Delimiter)
}

// LineLengthExceeded is what a line longer than MaxLength calls, unless the
// protocol defines its own LineLengthExceeded(remainder []byte). Either way
// the receiver first records an error matching [ErrLineTooLong], with the
// sizes, which Err then returns. This default closes the connection with
// Transport().CloseWithError and that error: ConnectionLost's reason matches
// it and transport.ErrConnectionAborted, and the reactor logs it with the
// peer's address. An override may call it by name to close the same way.
//
// remainder is the data buffered when the line was found too long: the start
// of that line (all of it, with its delimiter, if it is complete) and what
// followed it so far. It is valid only until LineLengthExceeded returns. The
// buffer is empty afterwards; if the connection stays open, splitting resumes
// with the next data received. Loop goroutine.
func (r *LineReceiver) LineLengthExceeded(remainder []byte) {
	r.s.tooLong(r.Transport())
}

// Err returns the error recorded when a line was too long (whether or not
// LineLengthExceeded was overridden), nil otherwise. It matches
// [ErrLineTooLong] and gives the sizes: "protocol: line too long: line of
// 20000 bytes, MaxLength is 16384". Loop goroutine.
func (r *LineReceiver) Err() error { return r.s.err }

// LineOnlyReceiver is a cheaper [LineReceiver] with no raw mode: Twisted's
// basic.LineOnlyReceiver. The protocol that embeds it defines
//
//	LineReceived(line []byte)
//
// and may define LineLengthExceeded(remainder []byte). Lines, limits, the
// lifetime of the line slice, the stop once the transport is disconnecting,
// the close with an error matching [ErrLineTooLong], pausing
// ([LineOnlyReceiver.PauseProducing]), and the refusal at MakeConnection
// ([ErrNoLineReceived]) of a protocol with no LineReceived are as for
// LineReceiver.
// Unlike Twisted's LineOnlyReceiver, a line of exactly MaxLength bytes is
// accepted however the data is split.
//
// All of LineOnlyReceiver's methods run on the connection's loop goroutine.
type LineOnlyReceiver struct {
	Base

	// Delimiter ends each line, received and sent. "" means
	// DefaultLineDelimiter ("\r\n"). Set it in BuildProtocol or
	// ConnectionMade; a change takes effect from the next line. Loop
	// goroutine.
	Delimiter string

	// MaxLength is the longest line accepted, in bytes, not counting the
	// delimiter; 0 (or less) means DefaultMaxLineLength (16384). It bounds
	// the receiver's buffer. Set it in BuildProtocol or ConnectionMade. Loop
	// goroutine.
	MaxLength int

	s      lineSplitter
	lines  LineHandler
	exceed lineLengthHandler
}

// DataReceived splits data into lines and delivers them to the protocol's
// LineReceived, keeping an incomplete last line until the rest of it comes.
// Called from inside LineReceived, it queues data behind what is not
// delivered yet. While the receiver is paused
// ([LineOnlyReceiver.PauseProducing]) it only keeps data. data is valid only
// until DataReceived returns, and is not kept. Loop goroutine.
func (r *LineOnlyReceiver) DataReceived(data []byte) {
	s := &r.s
	if s.busy {
		s.queue(data)
		return
	}
	t := r.Transport()
	if t != nil && t.Disconnecting() {
		return
	}
	if r.lines == nil {
		r.lines, r.exceed = findLineHandlers(r.Self(), "LineOnlyReceiver", r)
	}
	if s.isPaused() {
		s.hold(data, r.Delimiter, r.MaxLength, t)
		return
	}
	r.deliver(data)
}

// deliver is DataReceived's loop; see [LineReceiver.deliver]. Loop goroutine.
func (r *LineOnlyReceiver) deliver(data []byte) {
	s := &r.s
	s.busy = true
	defer s.finish()
	s.rest = data
	t := r.Transport()
	for {
		if t != nil && t.Disconnecting() {
			return
		}
		if s.isPaused() || transportPaused(t) {
			s.keepRest(r.Delimiter, r.MaxLength)
			return
		}
		line, step := s.next(s.delimiter(r.Delimiter), lineMax(r.MaxLength))
		switch step {
		case lineFound:
			r.lines.LineReceived(line)
		case lineTooLong:
			s.err = lineTooLongError(line, s.delimiter(r.Delimiter), lineMax(r.MaxLength))
			r.exceed.LineLengthExceeded(line)
		default:
			return
		}
	}
}

// bindHandlers finds the protocol's LineReceived and LineLengthExceeded,
// before ConnectionMade; see [MakeConnection]. Loop goroutine.
func (r *LineOnlyReceiver) bindHandlers(p Protocol) (err error) {
	r.lines, r.exceed, err = lineHandlersOf(p, "LineOnlyReceiver", r)
	return err
}

// PauseProducing stops delivering lines at once and pauses the transport;
// see [LineReceiver.PauseProducing]. Any goroutine.
func (r *LineOnlyReceiver) PauseProducing() { pauseReceiver(&r.s, r.Transport()) }

// ResumeProducing delivers the lines held back, on the connection's loop,
// then lets the transport read again; see [LineReceiver.ResumeProducing].
// Any goroutine.
func (r *LineOnlyReceiver) ResumeProducing() {
	resumeReceiver(&r.s, r.Transport(), func() { r.deliver(nil) })
}

// ReadingResumed delivers the lines a pause of the transport held back; see
// [LineReceiver.ReadingResumed]. Loop goroutine.
func (r *LineOnlyReceiver) ReadingResumed() {
	if !r.s.busy && !r.s.isPaused() && r.lines != nil {
		r.deliver(nil)
	}
}

// StopProducing stops delivering lines and closes the transport. Any
// goroutine.
func (r *LineOnlyReceiver) StopProducing() { stopReceiver(&r.s, r.Transport()) }

// WrappedProducer returns the transport; see [LineReceiver.WrappedProducer].
// Any goroutine.
func (r *LineOnlyReceiver) WrappedProducer() transport.Producer { return r.Transport() }

// Buffered returns the number of bytes received but not delivered yet: the
// incomplete line, and, from inside LineReceived, the rest of the current
// chunk. Loop goroutine.
func (r *LineOnlyReceiver) Buffered() int { return r.s.buffered() }

// SendLine writes line followed by the delimiter, in one WriteSequence. It
// does not check that line is free of the delimiter, nor its length. It
// returns the transport's error (transport.ErrClosed once the connection is
// closing or before MakeConnection). Any goroutine (so a chat room can send a
// line to another member), as long as Delimiter is not being changed at the
// same time; it allocates nothing unless two goroutines send on one receiver
// at once.
func (r *LineOnlyReceiver) SendLine(line []byte) error {
	return r.s.sendLine(r.Transport(), line, r.Delimiter)
}

// LineLengthExceeded is what a line longer than MaxLength calls, unless the
// protocol defines its own LineLengthExceeded(remainder []byte). This default
// closes the connection with Transport().CloseWithError and the error
// matching [ErrLineTooLong] that the receiver recorded (and Err returns);
// remainder is as for [LineReceiver.LineLengthExceeded]. Loop goroutine.
func (r *LineOnlyReceiver) LineLengthExceeded(remainder []byte) {
	r.s.tooLong(r.Transport())
}

// Err returns the error recorded when a line was too long (whether or not
// LineLengthExceeded was overridden), matching [ErrLineTooLong], or nil.
// Loop goroutine.
func (r *LineOnlyReceiver) Err() error { return r.s.err }

// lineHandlersOf finds the user's LineReceived and LineLengthExceeded on
// self, the outer protocol value; base's own LineLengthExceeded is the
// fallback (the user's struct has it anyway, promoted, when it embeds base).
// It returns an error matching ErrNoLineReceived if self has no
// LineReceived.
func lineHandlersOf(self Protocol, name string, base lineLengthHandler) (LineHandler, lineLengthHandler, error) {
	lines, ok := self.(LineHandler)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %T embeds %s but has no LineReceived(line []byte) method", ErrNoLineReceived, self, name)
	}
	exceed, ok := self.(lineLengthHandler)
	if !ok {
		exceed = base
	}
	return lines, exceed, nil
}

// findLineHandlers is lineHandlersOf for a receiver fed data without
// MakeConnection (which binds the handlers, and refuses a protocol with no
// LineReceived): it panics where MakeConnection would have refused.
func findLineHandlers(self Protocol, name string, base lineLengthHandler) (LineHandler, lineLengthHandler) {
	if self == nil {
		panic(fmt.Errorf("%w: %s fed data before MakeConnection", ErrNoLineReceived, name))
	}
	lines, exceed, err := lineHandlersOf(self, name, base)
	if err != nil {
		panic(err)
	}
	return lines, exceed
}

// lineTooLongError is the error recorded for the line too long at the start
// of remainder, with its length (or, unfinished, the length received so
// far) and maxLen.
func lineTooLongError(remainder, d []byte, maxLen int) error {
	if i := bytes.Index(remainder, d); i >= 0 {
		return fmt.Errorf("%w: line of %d bytes, MaxLength is %d", ErrLineTooLong, i, maxLen)
	}
	return fmt.Errorf("%w: %d bytes without a delimiter, MaxLength is %d", ErrLineTooLong, len(remainder), maxLen)
}

// lineMax returns the effective MaxLength for m, small enough that adding a
// delimiter's length cannot overflow.
func lineMax(m int) int {
	switch {
	case m <= 0:
		return DefaultMaxLineLength
	case m > math.MaxInt/2:
		return math.MaxInt / 2
	}
	return m
}

// lineStep is what lineSplitter.next found.
type lineStep int8

const (
	lineNeedMore lineStep = iota // no complete line: everything left is buffered
	lineFound                    // a line, ready to deliver
	lineTooLong                  // a line over the limit: the remainder, buffer emptied
)

// lineSplitter is the framing state shared by the line receivers. The data
// not delivered yet is buf[off:] (owned, an incomplete line most of the time)
// followed by rest (the part of the chunk being delivered that was not
// examined yet: the caller's memory, valid during DataReceived only).
//
// Slices handed to the user point into buf or rest. buf is never compacted,
// truncated or reused while a user callback runs (only next, which runs
// between callbacks, does it); queue, which runs inside callbacks, only
// appends.
type lineSplitter struct {
	buf  []byte
	off  int
	scan int // no delimiter lies wholly in buf starting in buf[off:scan]
	rest []byte

	delimSrc string // the Delimiter setting the scan state is for

	// SendLine's WriteSequence argument, kept to avoid allocating;
	// flagSendBusy makes it single-user, so SendLine is safe from any
	// goroutine (a concurrent call uses fresh space).
	seq   [2][]byte
	busy  bool          // inside DataReceived's loop
	raw   bool          // LineReceiver's raw mode
	flags atomic.Uint32 // flagSendBusy, flagPaused: set from any goroutine
	err   error
}

// lineSplitter.flags: one word for both, to keep LineReceiver within its
// size class.
const (
	flagSendBusy = 1 << iota // seq is in use by a SendLine
	flagPaused               // PauseProducing: deliver nothing
)

func (s *lineSplitter) setPaused(paused bool) {
	if paused {
		s.flags.Or(flagPaused)
	} else {
		s.flags.And(^uint32(flagPaused))
	}
}

func (s *lineSplitter) isPaused() bool { return s.flags.Load()&flagPaused != 0 }

// delimiter returns the delimiter bytes for the setting d, restarting the
// scan for a delimiter when the setting changed.
func (s *lineSplitter) delimiter(d string) []byte {
	if d == "" {
		d = DefaultLineDelimiter
	}
	if d != s.delimSrc {
		s.delimSrc = d
		s.scan = s.off
	}
	return stringBytes(d)
}

// next finds the next line in buf[off:] followed by rest, split at the first
// occurrence of d, and consumes it with its delimiter. A line longer than maxLen
// gives lineTooLong with everything not delivered (which is consumed too). With
// no complete line, it moves rest into buf and gives lineNeedMore; buf then
// holds fewer than maxLen+len(d) bytes, for a longer one would hold a line
// longer than maxLen whatever came next.
func (s *lineSplitter) next(d []byte, maxLen int) ([]byte, lineStep) {
	k := len(d)
	limit := maxLen + k
	if s.off == len(s.buf) {
		// Nothing buffered: lines come straight from the received data.
		s.buf, s.off, s.scan = s.buf[:0], 0, 0
		rest := s.rest
		w := rest
		if len(w) > limit {
			w = w[:limit] // an acceptable line ends within it
		}
		if i := bytes.Index(w, d); i >= 0 {
			if i > maxLen {
				return s.takeAll(), lineTooLong
			}
			s.rest = rest[i+k:]
			return rest[:i:i], lineFound
		}
		if len(rest) >= limit {
			return s.takeAll(), lineTooLong
		}
		s.keep(rest, limit)
		s.rest = nil
		s.scan = max(0, len(s.buf)-(k-1))
		return nil, lineNeedMore
	}

	// A delimiter wholly in buf (after a queued chunk or a new Delimiter).
	if j := bytes.Index(s.buf[s.scan:], d); j >= 0 {
		j += s.scan
		if j-s.off > maxLen {
			return s.takeAll(), lineTooLong
		}
		line := s.buf[s.off:j:j]
		s.off = j + k
		s.scan = s.off
		return line, lineFound
	}
	n := len(s.buf) - s.off
	s.scan = len(s.buf) - (k - 1)
	if s.scan < s.off {
		s.scan = s.off
	}
	if n >= limit {
		return s.takeAll(), lineTooLong
	}
	if len(s.rest) == 0 {
		return nil, lineNeedMore
	}

	// A delimiter that starts in buf and ends in rest. Later starts need more
	// of rest; once rest is too short to decide one, it is too short for all
	// that follow, and too short to hold a whole delimiter.
	for at := s.scan; at < len(s.buf); at++ {
		head := s.buf[at:]
		if !bytes.HasPrefix(d, head) {
			continue
		}
		tail := d[len(head):]
		if len(s.rest) < len(tail) {
			break
		}
		if bytes.Equal(s.rest[:len(tail)], tail) {
			if at-s.off > maxLen {
				return s.takeAll(), lineTooLong
			}
			line := s.buf[s.off:at:at]
			s.off = len(s.buf)
			s.scan = s.off
			s.rest = s.rest[len(tail):]
			return line, lineFound
		}
	}

	// A delimiter wholly in rest: the line is buf[off:] plus the start of rest.
	rest := s.rest
	w := rest
	if len(w) > limit-n {
		w = w[:limit-n]
	}
	if i := bytes.Index(w, d); i >= 0 {
		if n+i > maxLen {
			return s.takeAll(), lineTooLong
		}
		s.keep(rest[:i], limit)
		line := s.buf[:len(s.buf):len(s.buf)]
		s.off = len(s.buf)
		s.scan = s.off
		s.rest = rest[i+k:]
		return line, lineFound
	}
	if n+len(rest) >= limit {
		return s.takeAll(), lineTooLong
	}
	s.keep(rest, limit)
	s.rest = nil
	s.scan = max(0, len(s.buf)-(k-1))
	return nil, lineNeedMore
}

// keep moves buf[off:] to the front of buf and appends p, growing buf to at
// most limit bytes when p fits in that. It is called only between user
// callbacks.
func (s *lineSplitter) keep(p []byte, limit int) {
	if s.off > 0 {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.scan -= s.off
		s.off = 0
	}
	need := len(s.buf) + len(p)
	if need > cap(s.buf) {
		c := 2 * cap(s.buf)
		if c < lineBufMin {
			c = lineBufMin
		}
		if c > limit {
			c = limit
		}
		if c < need {
			c = need
		}
		nb := make([]byte, len(s.buf), c)
		copy(nb, s.buf)
		s.buf = nb
	}
	s.buf = append(s.buf, p...)
}

// takeAll consumes and returns everything not delivered, copying only when it
// lies both in buf and in rest.
func (s *lineSplitter) takeAll() []byte {
	pending := s.buf[s.off:len(s.buf):len(s.buf)]
	rest := s.rest
	s.off = len(s.buf)
	s.scan = s.off
	s.rest = nil
	switch {
	case len(rest) == 0:
		return pending
	case len(pending) == 0:
		return rest[:len(rest):len(rest)]
	}
	all := make([]byte, 0, len(pending)+len(rest))
	return append(append(all, pending...), rest...)
}

// takeRaw consumes and returns the next piece of raw data: the buffered bytes
// first, then the rest of the chunk. It returns an empty slice when there is
// none.
func (s *lineSplitter) takeRaw() []byte {
	if s.off < len(s.buf) {
		chunk := s.buf[s.off:len(s.buf):len(s.buf)]
		s.off = len(s.buf)
		s.scan = s.off
		return chunk
	}
	chunk := s.rest
	s.rest = nil
	return chunk
}

// queue appends data behind everything not delivered yet. It runs inside a
// user callback: it copies rest (the caller's memory) and data into buf, and
// only ever appends to buf.
func (s *lineSplitter) queue(data []byte) {
	if len(s.rest) > 0 {
		s.buf = append(s.buf, s.rest...)
		s.rest = nil
	}
	s.buf = append(s.buf, data...)
}

// keepRest moves rest, the part of the chunk not delivered because the
// receiver was paused, into buf, for delivery on resume. It runs between
// user callbacks.
func (s *lineSplitter) keepRest(delim string, maxLen int) {
	if len(s.rest) > 0 {
		s.keep(s.rest, lineMax(maxLen)+len(s.delimiter(delim)))
		s.rest = nil
	}
}

// hold keeps data, received while the receiver is paused, behind what is
// buffered, and pauses t again (a ResumeProducing of the transport alone
// does not resume delivery). It runs outside user callbacks.
func (s *lineSplitter) hold(data []byte, delim string, maxLen int, t transport.Transport) {
	if len(data) > 0 {
		s.keep(data, lineMax(maxLen)+len(s.delimiter(delim)))
	}
	if t != nil {
		t.PauseProducing()
	}
}

// finish ends a DataReceived: it forgets rest (not delivered only when the
// transport is disconnecting; a pause moved it into buf) and drops a large
// buffer that is empty.
func (s *lineSplitter) finish() {
	s.busy = false
	s.rest = nil
	if s.off == len(s.buf) {
		s.release()
	}
}

// release empties buf, keeping its memory only when it is small.
func (s *lineSplitter) release() {
	if cap(s.buf) > lineBufRetain {
		s.buf = nil
	} else {
		s.buf = s.buf[:0]
	}
	s.off, s.scan = 0, 0
}

// clear consumes everything not delivered and returns a copy of it, or nil.
func (s *lineSplitter) clear() []byte {
	n := s.buffered()
	if n == 0 {
		return nil
	}
	out := make([]byte, 0, n)
	out = append(append(out, s.buf[s.off:]...), s.rest...)
	s.off = len(s.buf)
	s.scan = s.off
	s.rest = nil
	if !s.busy {
		s.release()
	}
	return out
}

func (s *lineSplitter) buffered() int { return len(s.buf) - s.off + len(s.rest) }

// sendLine writes line and the delimiter of setting d to t in one
// WriteSequence, without allocating.
func (s *lineSplitter) sendLine(t transport.Transport, line []byte, d string) error {
	if t == nil {
		return transport.ErrClosed
	}
	if d == "" {
		d = DefaultLineDelimiter
	}
	if !s.acquireSend() {
		// Another goroutine is sending on this receiver: use fresh space.
		return t.WriteSequence([][]byte{line, stringBytes(d)})
	}
	s.seq[0], s.seq[1] = line, stringBytes(d)
	err := t.WriteSequence(s.seq[:])
	s.seq[0] = nil
	s.flags.And(^uint32(flagSendBusy))
	return err
}

// acquireSend sets flagSendBusy and reports whether it was clear.
func (s *lineSplitter) acquireSend() bool {
	for {
		f := s.flags.Load()
		if f&flagSendBusy != 0 {
			return false
		}
		if s.flags.CompareAndSwap(f, f|flagSendBusy) {
			return true
		}
	}
}

// tooLong is the default LineLengthExceeded: close with the recorded error
// (recording a bare ErrLineTooLong if the default is called with none).
func (s *lineSplitter) tooLong(t transport.Transport) {
	if s.err == nil {
		s.err = ErrLineTooLong
	}
	if t != nil {
		t.CloseWithError(s.err)
	}
}
