package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/whirl-go/whirl/transport"
)

// DefaultMaxStringLength is the longest string the int-prefixed receivers and
// NetstringReceiver accept when their MaxLength is zero (or negative), as in
// Twisted.
const DefaultMaxStringLength = 99999

// StringHandler is what a protocol embedding [Int8StringReceiver],
// [Int16StringReceiver], [Int32StringReceiver] or [NetstringReceiver]
// implements to receive strings. A compile-time assertion catches a misspelt
// method; without it, [MakeConnection] refuses the connection with an error
// matching [ErrNoStringReceived]:
//
//	type Chat struct{ protocol.Int32StringReceiver }
//
//	func (c *Chat) StringReceived(s []byte) { ... }
//
//	var _ protocol.StringHandler = (*Chat)(nil)
type StringHandler interface {
	// StringReceived is called with each complete string, framing removed.
	// s is valid only until StringReceived returns (it points into the
	// received chunk or the receiver's buffer): copy what must be kept.
	// Loop goroutine.
	StringReceived(s []byte)
}

// intNRetain is the largest buffer a receiver keeps between strings: a buffer
// grown for a longer string is dropped once that string was delivered.
const intNRetain = 64 << 10

// Int8StringReceiver receives and sends strings each preceded by its length in
// one byte (0 to 255): Twisted's Int8StringReceiver, byte for byte. The user's
// protocol embeds it and defines StringReceived (see [StringHandler]):
//
//	type Echo struct{ protocol.Int8StringReceiver }
//
//	func (e *Echo) StringReceived(s []byte) { _ = e.SendString(s) }
//
// See [Int32StringReceiver] for how strings are delivered, how MaxLength is
// enforced and what LengthLimitExceeded does.
type Int8StringReceiver struct {
	Base
	// MaxLength is the longest string accepted from the peer; 0 or less means
	// DefaultMaxStringLength (which an 8-bit prefix cannot reach).
	MaxLength int
	core      intNCore
}

// DataReceived splits data into strings and calls the outer protocol's
// StringReceived with each; see [Int32StringReceiver.DataReceived].
// Loop goroutine.
func (r *Int8StringReceiver) DataReceived(data []byte) {
	r.core.receive(&r.Base, 1, &r.MaxLength, data)
}

// SendString writes s with its one-byte length prefix, in one write. It
// returns an error matching ErrStringTooLong (writing nothing) if s is 256
// bytes or longer, or the transport's error. Any goroutine.
func (r *Int8StringReceiver) SendString(s []byte) error {
	return r.core.send(r.Transport(), 1, s)
}

// LengthLimitExceeded is called when the peer announces a string of n bytes,
// more than MaxLength; see [Int32StringReceiver.LengthLimitExceeded]. This
// default closes the connection with Transport().CloseWithError and the
// error Err returns. Loop goroutine.
func (r *Int8StringReceiver) LengthLimitExceeded(n int) {
	r.core.closeExceeded(r.Transport(), 1, n)
}

// Err returns the error that stopped the receiver (matching
// ErrLengthLimitExceeded, with the sizes), or nil while it runs. Loop
// goroutine.
func (r *Int8StringReceiver) Err() error { return r.core.err }

// PauseProducing stops delivering strings at once and pauses the transport;
// see [Int32StringReceiver.PauseProducing]. Any goroutine.
func (r *Int8StringReceiver) PauseProducing() { pauseReceiver(&r.core.paused, r.Transport()) }

// ResumeProducing delivers the strings held back, on the connection's loop,
// then lets the transport read again; see
// [Int32StringReceiver.ResumeProducing]. Any goroutine.
func (r *Int8StringReceiver) ResumeProducing() {
	resumeReceiver(&r.core.paused, r.Transport(), func() { r.core.resume(&r.Base, 1, &r.MaxLength) })
}

// ReadingResumed delivers the strings a pause of the transport held back
// (protocol.ReadResumer; see [LineReceiver.ReadingResumed]). Loop goroutine.
func (r *Int8StringReceiver) ReadingResumed() {
	if !r.core.paused.isPaused() {
		r.core.resume(&r.Base, 1, &r.MaxLength)
	}
}

// StopProducing stops delivering strings and closes the transport. Any
// goroutine.
func (r *Int8StringReceiver) StopProducing() { stopReceiver(&r.core.paused, r.Transport()) }

// WrappedProducer returns the transport; see
// [Int32StringReceiver.WrappedProducer]. Any goroutine.
func (r *Int8StringReceiver) WrappedProducer() transport.Producer { return r.Transport() }

func (r *Int8StringReceiver) bindHandlers(p Protocol) error { return r.core.bind(p, 1) }

// Int16StringReceiver receives and sends strings each preceded by its length in
// two bytes, big-endian (0 to 65535): Twisted's Int16StringReceiver, byte for
// byte ("hello" is "\x00\x05hello"). The user's protocol embeds it and
// defines StringReceived (see [StringHandler]).
//
// See [Int32StringReceiver] for how strings are delivered, how MaxLength is
// enforced and what LengthLimitExceeded does.
type Int16StringReceiver struct {
	Base
	// MaxLength is the longest string accepted from the peer; 0 or less means
	// DefaultMaxStringLength.
	MaxLength int
	core      intNCore
}

// DataReceived splits data into strings and calls the outer protocol's
// StringReceived with each; see [Int32StringReceiver.DataReceived].
// Loop goroutine.
func (r *Int16StringReceiver) DataReceived(data []byte) {
	r.core.receive(&r.Base, 2, &r.MaxLength, data)
}

// SendString writes s with its two-byte length prefix, in one write. It
// returns an error matching ErrStringTooLong (writing nothing) if s is 65536
// bytes or longer, or the transport's error. Any goroutine.
func (r *Int16StringReceiver) SendString(s []byte) error {
	return r.core.send(r.Transport(), 2, s)
}

// LengthLimitExceeded is called when the peer announces a string of n bytes,
// more than MaxLength; see [Int32StringReceiver.LengthLimitExceeded]. This
// default closes the connection with Transport().CloseWithError and the
// error Err returns. Loop goroutine.
func (r *Int16StringReceiver) LengthLimitExceeded(n int) {
	r.core.closeExceeded(r.Transport(), 2, n)
}

// Err returns the error that stopped the receiver (matching
// ErrLengthLimitExceeded, with the sizes), or nil while it runs. Loop
// goroutine.
func (r *Int16StringReceiver) Err() error { return r.core.err }

// PauseProducing stops delivering strings at once and pauses the transport;
// see [Int32StringReceiver.PauseProducing]. Any goroutine.
func (r *Int16StringReceiver) PauseProducing() { pauseReceiver(&r.core.paused, r.Transport()) }

// ResumeProducing delivers the strings held back, on the connection's loop,
// then lets the transport read again; see
// [Int32StringReceiver.ResumeProducing]. Any goroutine.
func (r *Int16StringReceiver) ResumeProducing() {
	resumeReceiver(&r.core.paused, r.Transport(), func() { r.core.resume(&r.Base, 2, &r.MaxLength) })
}

// ReadingResumed delivers the strings a pause of the transport held back
// (protocol.ReadResumer; see [LineReceiver.ReadingResumed]). Loop goroutine.
func (r *Int16StringReceiver) ReadingResumed() {
	if !r.core.paused.isPaused() {
		r.core.resume(&r.Base, 2, &r.MaxLength)
	}
}

// StopProducing stops delivering strings and closes the transport. Any
// goroutine.
func (r *Int16StringReceiver) StopProducing() { stopReceiver(&r.core.paused, r.Transport()) }

// WrappedProducer returns the transport; see
// [Int32StringReceiver.WrappedProducer]. Any goroutine.
func (r *Int16StringReceiver) WrappedProducer() transport.Producer { return r.Transport() }

func (r *Int16StringReceiver) bindHandlers(p Protocol) error { return r.core.bind(p, 2) }

// Int32StringReceiver receives and sends strings each preceded by its length in
// four bytes, big-endian: Twisted's Int32StringReceiver, byte for byte
// ("hello" is "\x00\x00\x00\x05hello"). The user's protocol embeds it and
// defines StringReceived (see [StringHandler]):
//
//	type Server struct {
//		protocol.Int32StringReceiver
//		store *Store
//	}
//
//	func (s *Server) StringReceived(req []byte) {
//		_ = s.SendString(s.store.Handle(req))
//	}
//
// Strings are passed to StringReceived as they complete, without copying when
// a whole frame is in one received chunk; only a partial frame is buffered.
// Its buffer grows with the bytes that arrive, never ahead of them: a
// prefix alone costs nothing, however long the string it announces, so a
// receiver holds at most what the peer actually sent of one string, and never
// more than MaxLength bytes (plus the prefix) of it.
//
// A prefix announcing more than MaxLength bytes makes the receiver stop at
// once, before any of that string is read: it records an error matching
// ErrLengthLimitExceeded with the sizes (see Err), calls the outer protocol's
// LengthLimitExceeded, and from then on discards all input. The default
// LengthLimitExceeded closes the connection with Transport().CloseWithError
// and that error, so ConnectionLost's reason matches it and
// transport.ErrConnectionAborted, and the reactor logs it with the peer's
// address; the outer protocol may define its own (to send an error message
// first, say) and call the default by name to close.
//
// Pausing: [Int32StringReceiver.PauseProducing], from StringReceived or any
// goroutine, stops the delivery before the next string and pauses the
// transport; the rest of the data received stays buffered until
// ResumeProducing. Transport().PauseProducing() alone stops reading from the
// socket but not the delivery of the strings already received (the
// Transport interface does not let the receiver see it).
//
// If the outer protocol has no StringReceived method ([StringHandler]),
// [MakeConnection] refuses the connection, closing it with an error matching
// ErrNoStringReceived that names the protocol's type, before any data.
type Int32StringReceiver struct {
	Base
	// MaxLength is the longest string accepted from the peer; 0 or less means
	// DefaultMaxStringLength. It is read for each string, so StringReceived
	// may change it.
	MaxLength int
	core      intNCore
}

// DataReceived splits data into strings and calls the outer protocol's
// StringReceived with each complete one, in order. It stops as soon as the
// transport is disconnecting (a StringReceived called LoseConnection, say):
// strings after that one, even in the same chunk, are dropped. A partial
// string is kept for the next call. The outer protocol does not normally
// define DataReceived itself. Loop goroutine.
func (r *Int32StringReceiver) DataReceived(data []byte) {
	r.core.receive(&r.Base, 4, &r.MaxLength, data)
}

// SendString writes s with its four-byte length prefix, in one write, without
// allocating (unless another SendString on the same receiver runs at the
// same moment, from another goroutine). It returns an error matching ErrStringTooLong (writing nothing)
// if s is 2^32 bytes or longer, or the transport's error (transport.ErrClosed
// once the connection is closing). Any goroutine.
func (r *Int32StringReceiver) SendString(s []byte) error {
	return r.core.send(r.Transport(), 4, s)
}

// LengthLimitExceeded is called, at most once, when the peer announces a
// string of n bytes, more than MaxLength (n is capped at math.MaxInt on 32-bit
// platforms). No string is delivered after it. This default closes the
// connection with Transport().CloseWithError and the error Err returns; an
// outer protocol's own LengthLimitExceeded replaces it, and may call this one
// to close. Loop goroutine.
func (r *Int32StringReceiver) LengthLimitExceeded(n int) {
	r.core.closeExceeded(r.Transport(), 4, n)
}

// Err returns the error that stopped the receiver, or nil while it runs: it
// matches ErrLengthLimitExceeded and gives the sizes ("protocol: string
// length over MaxLength: Int32StringReceiver prefix announces 2147483647
// bytes, MaxLength is 99999"). Loop goroutine.
func (r *Int32StringReceiver) Err() error { return r.core.err }

// PauseProducing stops delivering strings at once, and pauses the transport
// so that the peer is pushed back. Called from StringReceived, that string
// is the last one delivered until [Int32StringReceiver.ResumeProducing],
// even if more arrived in the same chunk: they stay buffered, with what
// arrives before the transport stops reading. With ResumeProducing and
// StopProducing it makes the protocol a [transport.Producer] standing in
// for its transport ([Int32StringReceiver.WrappedProducer]). Any goroutine.
func (r *Int32StringReceiver) PauseProducing() { pauseReceiver(&r.core.paused, r.Transport()) }

// ResumeProducing undoes PauseProducing: the strings held back are
// delivered, then the transport reads again (unless a string paused it
// anew). The delivery runs on the connection's loop after the current
// callback returns (through the transport's Loop().CallSoon), whichever
// goroutine calls it. Any goroutine.
func (r *Int32StringReceiver) ResumeProducing() {
	resumeReceiver(&r.core.paused, r.Transport(), func() { r.core.resume(&r.Base, 4, &r.MaxLength) })
}

// ReadingResumed delivers the strings a pause of the transport held back
// (protocol.ReadResumer; see [LineReceiver.ReadingResumed]). Loop goroutine.
func (r *Int32StringReceiver) ReadingResumed() {
	if !r.core.paused.isPaused() {
		r.core.resume(&r.Base, 4, &r.MaxLength)
	}
}

// StopProducing stops delivering strings and closes the transport
// (Transport().StopProducing, which is LoseConnection). Any goroutine.
func (r *Int32StringReceiver) StopProducing() { stopReceiver(&r.core.paused, r.Transport()) }

// WrappedProducer returns the transport, whose pause PauseProducing and
// ResumeProducing drive: it makes the receiver a
// [transport.ProducerWrapper], so that registered as its own transport's
// producer it does not hold a LoseConnection up ([transport.HoldsClose]).
// Any goroutine.
func (r *Int32StringReceiver) WrappedProducer() transport.Producer { return r.Transport() }

func (r *Int32StringReceiver) bindHandlers(p Protocol) error { return r.core.bind(p, 4) }

// maxStringLength is the limit a MaxLength field stands for.
func maxStringLength(field int) int {
	if field <= 0 {
		return DefaultMaxStringLength
	}
	return field
}

// stringHandlerIn returns the StringReceived of p, or an error matching
// ErrNoStringReceived naming p's type.
func stringHandlerIn(p Protocol, kind string) (StringHandler, error) {
	h, ok := p.(StringHandler)
	if !ok {
		return nil, fmt.Errorf("%w: %T embeds %s but has no StringReceived(s []byte) method", ErrNoStringReceived, p, kind)
	}
	return h, nil
}

// stringHandlerOf returns the StringReceived of the protocol that embeds b,
// for a receiver fed data without MakeConnection (which binds it, and
// refuses a protocol without one): it panics with ErrNoStringReceived where
// MakeConnection would have refused.
func stringHandlerOf(b *Base, kind string) StringHandler {
	self := b.Self()
	if self == nil || b.Transport() == nil {
		panic(fmt.Errorf("%w: %s fed data before MakeConnection", ErrNoStringReceived, kind))
	}
	h, err := stringHandlerIn(self, kind)
	if err != nil {
		panic(err)
	}
	return h
}

// stringBufMin is the smallest buffer made for a partial string.
const stringBufMin = 64

// growStringBuffer returns buf with room for k more bytes of a string of
// size bytes (len(buf)+k <= size). It grows with what arrives, doubling, and
// never past size: a peer that announces a long string and sends little of
// it costs little, and a receiver never holds more than its MaxLength.
func growStringBuffer(buf []byte, k, size int) []byte {
	need := len(buf) + k
	if need <= cap(buf) {
		return buf
	}
	nb := make([]byte, len(buf), min(max(need, 2*cap(buf), stringBufMin), size))
	copy(nb, buf)
	return nb
}

// holdRest keeps rest, what a paused receiver did not examine, in front of
// held (data queued meanwhile, from inside a callback) and returns the new
// held. owned says rest is the receiver's memory (a previous held), which
// may be kept as is; otherwise it is the caller's chunk and is copied.
func holdRest(rest, held []byte, owned bool) []byte {
	if owned {
		return append(rest, held...)
	}
	out := make([]byte, 0, len(rest)+len(held))
	return append(append(out, rest...), held...)
}

// noBytes is the empty string delivered from a receiver that never needed a
// buffer; with no room, it cannot be written to.
var noBytes = []byte{}

// bufferedString returns the string in buf, never nil, so that an empty
// string is the same non-nil slice however it arrived.
func bufferedString(buf []byte) []byte {
	if buf == nil {
		return noBytes
	}
	return buf
}

// releaseStringBuffer empties buf after its string was delivered, dropping it
// if it grew past intNRetain.
func releaseStringBuffer(buf []byte) []byte {
	if cap(buf) > intNRetain {
		return nil
	}
	return buf[:0]
}

// stringScratch holds what SendString needs to frame a string without
// allocating: the header bytes and the slice of buffers for WriteSequence.
// busy makes it single-user; a concurrent SendString uses a fresh one.
type stringScratch struct {
	busy atomic.Bool
	head [24]byte
	bufs [3][]byte
}

// acquire returns f, or a new stringScratch if f is in use.
func (f *stringScratch) acquire() *stringScratch {
	if f.busy.CompareAndSwap(false, true) {
		return f
	}
	return new(stringScratch)
}

// release clears s (so it does not keep the string alive) and hands it back
// if it is f.
func (f *stringScratch) release(s *stringScratch) {
	s.bufs = [3][]byte{}
	if s == f {
		f.busy.Store(false)
	}
}

// intNCore is the one implementation behind the three int-prefixed receivers;
// width is the prefix size in bytes: 1, 2 or 4. Its fields belong to the loop
// goroutine, except scratch.
type intNCore struct {
	handler StringHandler                         // the outer StringReceived, found once
	limit   interface{ LengthLimitExceeded(int) } // the outer LengthLimitExceeded
	prefix  [4]byte                               // prefix bytes of the buffered frame
	nPrefix int                                   // how many; 0 when no frame is buffered
	size    int                                   // the buffered frame's length, once nPrefix == width
	buf     []byte                                // the buffered frame's payload so far
	held    []byte                                // received, not examined: held while paused, or queued from a callback
	err     error                                 // why the receiver stopped
	stopped bool
	busy    bool      // inside receive's loop
	paused  pauseFlag // PauseProducing: deliver nothing; any goroutine
	scratch stringScratch
}

func intNKind(width int) string {
	return fmt.Sprintf("Int%dStringReceiver", 8*width)
}

// bind finds the outer protocol's StringReceived and LengthLimitExceeded,
// before ConnectionMade (see MakeConnection).
func (c *intNCore) bind(p Protocol, width int) error {
	h, err := stringHandlerIn(p, intNKind(width))
	if err != nil {
		return err
	}
	c.handler = h
	c.limit, _ = p.(interface{ LengthLimitExceeded(int) })
	return nil
}

// receive is DataReceived for every width.
func (c *intNCore) receive(b *Base, width int, maxLength *int, data []byte) {
	if c.busy { // from inside StringReceived: after what is not delivered
		c.held = append(c.held, data...)
		return
	}
	t := b.Transport()
	if c.handler == nil {
		if t != nil && t.Disconnecting() {
			return // refused by MakeConnection, or closed already
		}
		c.handler = stringHandlerOf(b, intNKind(width))
		c.limit, _ = b.Self().(interface{ LengthLimitExceeded(int) })
	}
	if c.stopped || t.Disconnecting() {
		return
	}
	if c.paused.isPaused() || len(c.held) > 0 {
		c.held = append(c.held, data...)
		if c.paused.isPaused() {
			t.PauseProducing() // resuming the transport alone does not resume delivery
			return
		}
		c.resume(b, width, maxLength)
		return
	}
	c.run(t, width, maxLength, data, false)
}

// resume delivers what is held, after ResumeProducing. Loop goroutine.
func (c *intNCore) resume(b *Base, width int, maxLength *int) {
	t := b.Transport()
	if c.busy || c.stopped || t.Disconnecting() || len(c.held) == 0 {
		return
	}
	data := c.held
	c.held = nil
	c.run(t, width, maxLength, data, true)
}

// run delivers the strings in data, then in what was queued meanwhile, until
// the receiver stops or pauses (keeping what is left in held). owned says
// data is the receiver's memory. Loop goroutine.
func (c *intNCore) run(t transport.Transport, width int, maxLength *int, data []byte, owned bool) {
	c.busy = true
	for {
		rest := c.frames(t, width, maxLength, data)
		if c.stopped || t.Disconnecting() {
			c.held = nil
			break
		}
		if len(rest) > 0 { // paused
			c.held = holdRest(rest, c.held, owned)
			break
		}
		if len(c.held) == 0 || c.paused.isPaused() || transportPaused(t) {
			break
		}
		data, c.held, owned = c.held, nil, true
	}
	c.busy = false
}

// frames delivers the strings in data, buffering a partial one. It returns
// the part of data not examined when the receiver is paused, nil otherwise.
func (c *intNCore) frames(t transport.Transport, width int, maxLength *int, data []byte) []byte {
	for len(data) > 0 {
		if c.paused.isPaused() || transportPaused(t) {
			return data
		}
		if c.nPrefix > 0 || len(data) < width {
			var ok bool
			if data, ok = c.fill(t, width, maxLength, data); !ok {
				return nil
			}
			continue
		}
		// A whole frame straight from the chunk.
		n := intNDecode(data, width)
		if limit := maxStringLength(*maxLength); n > uint64(limit) {
			c.exceeded(n, width, limit)
			return nil
		}
		if uint64(len(data)-width) < n {
			c.fill(t, width, maxLength, data) // a partial frame: buffered, not delivered
			return nil
		}
		end := width + int(n)
		c.handler.StringReceived(data[width:end])
		data = data[end:]
		if t.Disconnecting() {
			return nil
		}
	}
	return nil
}

// fill adds data to the buffered frame, delivers it if complete, and returns
// the rest of data and true; or false when data ran out, the receiver
// stopped or the transport is disconnecting.
func (c *intNCore) fill(t transport.Transport, width int, maxLength *int, data []byte) ([]byte, bool) {
	if c.nPrefix < width {
		k := copy(c.prefix[c.nPrefix:width], data)
		c.nPrefix += k
		data = data[k:]
		if c.nPrefix < width {
			return nil, false
		}
		n := intNDecode(c.prefix[:width], width)
		limit := maxStringLength(*maxLength)
		if n > uint64(limit) {
			c.exceeded(n, width, limit)
			return nil, false
		}
		c.size = int(n)
		c.buf = c.buf[:0]
	}
	k := min(c.size-len(c.buf), len(data))
	c.buf = append(growStringBuffer(c.buf, k, c.size), data[:k]...)
	data = data[k:]
	if len(c.buf) < c.size {
		return nil, false
	}
	c.nPrefix = 0
	c.handler.StringReceived(bufferedString(c.buf))
	c.buf = releaseStringBuffer(c.buf)
	if t.Disconnecting() {
		return nil, false
	}
	return data, true
}

// exceeded stops the receiver because a prefix announced n bytes.
func (c *intNCore) exceeded(n uint64, width, limit int) {
	c.stopped = true
	c.nPrefix, c.buf, c.held = 0, nil, nil
	c.err = fmt.Errorf("%w: %s prefix announces %d bytes, MaxLength is %d",
		ErrLengthLimitExceeded, intNKind(width), n, limit)
	if c.limit != nil {
		c.limit.LengthLimitExceeded(int(min(n, math.MaxInt)))
	}
}

// closeExceeded is the default LengthLimitExceeded: close t with the
// recorded error (or, called with none recorded, one made from n).
func (c *intNCore) closeExceeded(t transport.Transport, width, n int) {
	err := c.err
	if err == nil {
		err = fmt.Errorf("%w: %s peer announced %d bytes", ErrLengthLimitExceeded, intNKind(width), n)
	}
	t.CloseWithError(err)
}

// send is SendString for every width.
func (c *intNCore) send(t transport.Transport, width int, s []byte) error {
	if uint64(len(s)) >= 1<<(8*width) {
		return fmt.Errorf("%w: %d bytes, an %s sends at most %d",
			ErrStringTooLong, len(s), intNKind(width), uint64(1)<<(8*width)-1)
	}
	f := c.scratch.acquire()
	head := f.head[:0]
	switch width {
	case 1:
		head = append(head, byte(len(s)))
	case 2:
		head = binary.BigEndian.AppendUint16(head, uint16(len(s)))
	default:
		head = binary.BigEndian.AppendUint32(head, uint32(len(s)))
	}
	f.bufs[0], f.bufs[1] = head, s
	err := t.WriteSequence(f.bufs[:2])
	c.scratch.release(f)
	return err
}

// intNDecode reads a big-endian prefix of width bytes from p.
func intNDecode(p []byte, width int) uint64 {
	switch width {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	default:
		return uint64(binary.BigEndian.Uint32(p))
	}
}
