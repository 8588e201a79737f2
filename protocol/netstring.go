package protocol

import (
	"fmt"
	"strconv"

	"github.com/whirl-go/whirl/transport"
)

// NetstringReceiver receives and sends netstrings
// (https://cr.yp.to/proto/netstrings.txt): a decimal length, a colon, the
// payload and a comma, so "hello" is "5:hello," and the empty string "0:,".
// It is Twisted's NetstringReceiver, byte for byte. The user's protocol embeds
// it and defines StringReceived (see [StringHandler]):
//
//	type Echo struct{ protocol.NetstringReceiver }
//
//	func (e *Echo) StringReceived(s []byte) { _ = e.SendString(s) }
//
// Strings are passed to StringReceived as they complete, without copying when
// a whole netstring is in one received chunk; only a partial payload is
// buffered, in a buffer that grows with the bytes that arrive (never ahead of
// them, whatever length was announced), so a receiver holds at most what the
// peer sent of one payload, and never more than MaxLength bytes of it.
//
// Anything else is a parse error: a length that does not start with a digit
// (":" alone), a leading zero ("05:"; "0:" is fine), a character other than a
// digit or the colon in the length, a length over MaxLength, or a payload not
// followed by a comma. The length is checked digit by digit: one over
// MaxLength is refused as soon as the digits read so far exceed it, before
// the colon and any payload arrive; digits are counted before they are
// converted, so a long digit string never overflows. On a parse error the
// receiver records a *NetstringParseError (see Err), calls the outer
// protocol's NetstringParseFailed, and from then on discards all input. The
// default NetstringParseFailed closes the connection with
// Transport().CloseWithError and that error, so ConnectionLost's reason
// matches ErrNetstringParse (and ErrLengthLimitExceeded for a length over
// MaxLength) and transport.ErrConnectionAborted, and the reactor logs it with
// the peer's address.
//
// Pausing: [NetstringReceiver.PauseProducing], from StringReceived or any
// goroutine, stops the delivery before the next string and pauses the
// transport; the rest stays buffered until ResumeProducing. See
// [Int32StringReceiver] for Transport().PauseProducing().
//
// If the outer protocol has no StringReceived method ([StringHandler]),
// [MakeConnection] refuses the connection, closing it with an error matching
// ErrNoStringReceived that names the protocol's type, before any data.
type NetstringReceiver struct {
	Base
	// MaxLength is the longest payload accepted from the peer; 0 or less means
	// DefaultMaxStringLength. It is read for each netstring, so
	// StringReceived may change it.
	MaxLength int
	core      netstringCore
}

// NetstringParseError describes input that is not a valid netstring. It
// matches ErrNetstringParse with errors.Is; one caused by a length over
// MaxLength also matches ErrLengthLimitExceeded.
type NetstringParseError struct {
	// Reason says what is wrong, for people: "leading zero in the length".
	Reason string
	// Err is a more precise cause, or nil: ErrLengthLimitExceeded for a
	// length over MaxLength.
	Err error
}

// Error implements error. Any goroutine.
func (e *NetstringParseError) Error() string {
	return ErrNetstringParse.Error() + ": " + e.Reason
}

// Is reports whether target is ErrNetstringParse. Any goroutine.
func (e *NetstringParseError) Is(target error) bool { return target == ErrNetstringParse }

// Unwrap returns Err. Any goroutine.
func (e *NetstringParseError) Unwrap() error { return e.Err }

// DataReceived parses data as netstrings and calls the outer protocol's
// StringReceived with each complete payload, in order. It stops as soon as
// the transport is disconnecting (a StringReceived called LoseConnection,
// say): netstrings after that one, even in the same chunk, are dropped. A
// partial netstring is kept for the next call. The outer protocol does not
// normally define DataReceived itself. Loop goroutine.
func (r *NetstringReceiver) DataReceived(data []byte) {
	r.core.receive(&r.Base, &r.MaxLength, data)
}

// SendString writes s as a netstring ("5:hello,") in one write, without
// allocating (unless another SendString on the same receiver runs at the
// same moment, from another goroutine). It returns the transport's error (transport.ErrClosed once the
// connection is closing). Any goroutine.
func (r *NetstringReceiver) SendString(s []byte) error {
	return r.core.send(r.Transport(), s)
}

// NetstringParseFailed is called, at most once, when the peer sends something
// that is not a netstring; err is a *NetstringParseError, also returned by
// Err. No string is delivered after it. This default closes the connection
// with Transport().CloseWithError(err); an outer protocol's own
// NetstringParseFailed replaces it (to log err, say), and may call this one
// to close. Loop goroutine.
func (r *NetstringReceiver) NetstringParseFailed(err error) {
	if err == nil {
		err = ErrNetstringParse
	}
	r.Transport().CloseWithError(err)
}

// Err returns the *NetstringParseError that stopped the receiver, or nil
// while it runs. Its Reason gives the sizes where they matter ("length 11
// over MaxLength 10"). Loop goroutine.
func (r *NetstringReceiver) Err() error { return r.core.err }

// PauseProducing stops delivering strings at once and pauses the transport;
// see [Int32StringReceiver.PauseProducing]. Any goroutine.
func (r *NetstringReceiver) PauseProducing() { pauseReceiver(&r.core.paused, r.Transport()) }

// ResumeProducing delivers the strings held back, on the connection's loop,
// then lets the transport read again; see
// [Int32StringReceiver.ResumeProducing]. Any goroutine.
func (r *NetstringReceiver) ResumeProducing() {
	resumeReceiver(&r.core.paused, r.Transport(), func() { r.core.resume(&r.Base, &r.MaxLength) })
}

// ReadingResumed delivers the netstrings a pause of the transport held
// back (protocol.ReadResumer; see [LineReceiver.ReadingResumed]). Loop
// goroutine.
func (r *NetstringReceiver) ReadingResumed() {
	if !r.core.paused.isPaused() {
		r.core.resume(&r.Base, &r.MaxLength)
	}
}

// StopProducing stops delivering strings and closes the transport. Any
// goroutine.
func (r *NetstringReceiver) StopProducing() { stopReceiver(&r.core.paused, r.Transport()) }

// WrappedProducer returns the transport; see
// [Int32StringReceiver.WrappedProducer]. Any goroutine.
func (r *NetstringReceiver) WrappedProducer() transport.Producer { return r.Transport() }

func (r *NetstringReceiver) bindHandlers(p Protocol) error {
	h, err := stringHandlerIn(p, "NetstringReceiver")
	if err != nil {
		return err
	}
	r.core.handler = h
	r.core.failed, _ = p.(interface{ NetstringParseFailed(error) })
	return nil
}

// netstringTrailer ends every netstring SendString writes; never modified.
var netstringTrailer = []byte{','}

// Where a netstringCore is in the current netstring.
const (
	netstringAtLength  = iota // reading the digits, up to the colon
	netstringAtPayload        // reading size payload bytes into buf
	netstringAtComma          // payload complete in buf, waiting for the comma
)

// netstringCore is NetstringReceiver's parser. Its fields belong to the loop
// goroutine, except scratch.
type netstringCore struct {
	handler StringHandler                            // the outer StringReceived, found once
	failed  interface{ NetstringParseFailed(error) } // the outer NetstringParseFailed
	state   int
	digits  int    // digits of the length read so far
	size    uint64 // the length, as far as read
	buf     []byte // the payload, when it spans chunks
	held    []byte // received, not examined: held while paused, or queued from a callback
	err     error  // why the receiver stopped
	stopped bool
	busy    bool      // inside receive's loop
	paused  pauseFlag // PauseProducing: deliver nothing; any goroutine
	scratch stringScratch
}

// netstringDigits returns how many digits n (> 0) has.
func netstringDigits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// receive is NetstringReceiver.DataReceived.
func (c *netstringCore) receive(b *Base, maxLength *int, data []byte) {
	if c.busy { // from inside StringReceived: after what is not delivered
		c.held = append(c.held, data...)
		return
	}
	t := b.Transport()
	if c.handler == nil {
		if t != nil && t.Disconnecting() {
			return // refused by MakeConnection, or closed already
		}
		c.handler = stringHandlerOf(b, "NetstringReceiver")
		c.failed, _ = b.Self().(interface{ NetstringParseFailed(error) })
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
		c.resume(b, maxLength)
		return
	}
	c.run(t, maxLength, data, false)
}

// resume delivers what is held, after ResumeProducing. Loop goroutine.
func (c *netstringCore) resume(b *Base, maxLength *int) {
	t := b.Transport()
	if c.busy || c.stopped || t.Disconnecting() || len(c.held) == 0 {
		return
	}
	data := c.held
	c.held = nil
	c.run(t, maxLength, data, true)
}

// run delivers the netstrings in data, then in what was queued meanwhile,
// until the receiver stops or pauses (keeping what is left in held). owned
// says data is the receiver's memory. Loop goroutine.
func (c *netstringCore) run(t transport.Transport, maxLength *int, data []byte, owned bool) {
	c.busy = true
	for {
		rest := c.parse(t, maxLength, data)
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

// parse delivers the netstrings in data, keeping the state of a partial
// one. It returns the part of data not examined when the receiver is
// paused, nil otherwise.
func (c *netstringCore) parse(t transport.Transport, maxLength *int, data []byte) []byte {
	for len(data) > 0 {
		if c.paused.isPaused() || transportPaused(t) {
			return data
		}
		switch c.state {
		case netstringAtLength:
			limit := maxStringLength(*maxLength)
			rest, ok := c.length(data, limit)
			if !ok {
				return nil
			}
			data = rest
			if c.state == netstringAtLength {
				return nil // all digits, no colon yet
			}
			n := int(c.size)
			if len(data) > n { // the whole payload and the comma: no copy
				if data[n] != ',' {
					c.fail(fmt.Sprintf("payload of %d bytes followed by %q, not a comma", n, data[n]), nil)
					return nil
				}
				payload := data[:n]
				data = data[n+1:]
				c.state, c.digits, c.size = netstringAtLength, 0, 0
				c.handler.StringReceived(payload)
				if t.Disconnecting() {
					return nil
				}
				continue
			}
			c.buf = c.buf[:0]
		case netstringAtPayload:
			k := min(int(c.size)-len(c.buf), len(data))
			c.buf = append(growStringBuffer(c.buf, k, int(c.size)), data[:k]...)
			data = data[k:]
			if len(c.buf) == int(c.size) {
				c.state = netstringAtComma
			}
		case netstringAtComma:
			if data[0] != ',' {
				c.fail(fmt.Sprintf("payload of %d bytes followed by %q, not a comma", c.size, data[0]), nil)
				return nil
			}
			data = data[1:]
			c.state, c.digits, c.size = netstringAtLength, 0, 0
			c.handler.StringReceived(bufferedString(c.buf))
			c.buf = releaseStringBuffer(c.buf)
			if t.Disconnecting() {
				return nil
			}
		}
	}
	return nil
}

// length reads length digits from data, up to and including the colon (the
// state is then netstringAtPayload). It returns the rest of data, or false
// after a parse error.
func (c *netstringCore) length(data []byte, limit int) ([]byte, bool) {
	for i, ch := range data {
		switch {
		case ch == ':':
			if c.digits == 0 {
				c.fail("no length before the colon", nil)
				return nil, false
			}
			c.state = netstringAtPayload
			return data[i+1:], true
		case ch < '0' || ch > '9':
			if c.digits == 0 {
				c.fail(fmt.Sprintf("netstring starts with %q, not a digit", ch), nil)
			} else {
				c.fail(fmt.Sprintf("%q in the length", ch), nil)
			}
			return nil, false
		case c.digits == 1 && c.size == 0:
			c.fail("leading zero in the length", nil)
			return nil, false
		}
		// Count before converting: with at most as many digits as limit,
		// size stays below 10^19 and fits a uint64.
		c.digits++
		if c.digits > netstringDigits(limit) {
			c.fail(fmt.Sprintf("length %d%c... has more digits than MaxLength %d", c.size, ch, limit), ErrLengthLimitExceeded)
			return nil, false
		}
		c.size = c.size*10 + uint64(ch-'0')
		if c.size > uint64(limit) {
			c.fail(fmt.Sprintf("length %d over MaxLength %d", c.size, limit), ErrLengthLimitExceeded)
			return nil, false
		}
	}
	return nil, true
}

// fail stops the receiver with a parse error.
func (c *netstringCore) fail(reason string, cause error) {
	c.stopped = true
	c.buf, c.held = nil, nil
	err := &NetstringParseError{Reason: reason, Err: cause}
	c.err = err
	if c.failed != nil {
		c.failed.NetstringParseFailed(err)
	}
}

// send is NetstringReceiver.SendString.
func (c *netstringCore) send(t transport.Transport, s []byte) error {
	f := c.scratch.acquire()
	head := strconv.AppendInt(f.head[:0], int64(len(s)), 10)
	head = append(head, ':')
	f.bufs = [3][]byte{head, s, netstringTrailer}
	err := t.WriteSequence(f.bufs[:])
	c.scratch.release(f)
	return err
}
