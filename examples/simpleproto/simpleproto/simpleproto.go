package simpleproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The packet header.
const (
	// Magic starts every packet (gnet's magic number).
	Magic uint16 = 1314
	// Version is the protocol version this package speaks.
	Version uint16 = 1
	// HeaderLen is the header's size: magic, version and body length.
	HeaderLen = 8
	// Greeting is what the server sends first on every connection.
	Greeting = "sweetness\r\n"
	// DefaultMaxLength bounds a packet's body when MaxLength is 0: 1 MiB.
	DefaultMaxLength = 1 << 20
)

// Errors of bad input, wrapped with the value found.
var (
	// ErrMagic means a packet did not start with Magic.
	ErrMagic = errors.New("simpleproto: bad magic number")
	// ErrVersion means a packet's version is not Version.
	ErrVersion = errors.New("simpleproto: unsupported version")
	// ErrTooLarge means a packet announced a body over the MaxLength.
	ErrTooLarge = errors.New("simpleproto: packet too large")
	// ErrGreeting means the client did not receive Greeting first.
	ErrGreeting = errors.New("simpleproto: bad greeting")
	// ErrMismatch means an echoed packet differs from the one sent.
	ErrMismatch = errors.New("simpleproto: echo differs from what was sent")
	// ErrConfig means a setting is out of range.
	ErrConfig = errors.New("simpleproto: bad setting")
)

// AppendPacket appends body as one packet to dst and returns the extended
// slice. Any goroutine.
func AppendPacket(dst, body []byte) []byte {
	var h [HeaderLen]byte
	binary.BigEndian.PutUint16(h[0:], Magic)
	binary.BigEndian.PutUint16(h[2:], Version)
	binary.BigEndian.PutUint32(h[4:], uint32(len(body)))
	dst = append(dst, h[:]...)
	return append(dst, body...)
}

// PacketHandler receives the bodies a Decoder finds.
type PacketHandler interface {
	// PacketReceived is called with each packet's body, valid only during
	// the call. An error stops the decoding and is returned by Feed. The
	// Decoder's goroutine.
	PacketReceived(body []byte) error
}

// Decoder splits a byte stream into packets. The zero value is ready, with
// DefaultMaxLength.
type Decoder struct {
	// MaxLength bounds a body; 0 means DefaultMaxLength.
	MaxLength int

	buf  []byte // an unfinished packet, kept across Feeds
	need int    // bytes buf needs to hold a whole packet (header first)
	err  error  // the first error: Feed refuses more input
}

func (d *Decoder) maxLength() int {
	if d.MaxLength > 0 {
		return d.MaxLength
	}
	return DefaultMaxLength
}

// Buffered returns the bytes of an unfinished packet the decoder holds. The
// Decoder's goroutine.
func (d *Decoder) Buffered() int { return len(d.buf) }

// Feed passes every whole packet in data (with what earlier calls left) to
// h, in order, and keeps the start of an unfinished one. data is not kept.
// It returns the first error: bad input (ErrMagic, ErrVersion, ErrTooLarge,
// wrapped) or h's; after an error it returns the same error and consumes
// nothing. The Decoder's goroutine.
func (d *Decoder) Feed(data []byte, h PacketHandler) error {
	if d.err != nil {
		return d.err
	}
	for len(d.buf) > 0 && len(data) > 0 {
		// Complete the unfinished packet: its header, then its body.
		if d.need == 0 {
			d.need = HeaderLen
		}
		take := min(d.need-len(d.buf), len(data))
		d.buf = append(d.buf, data[:take]...)
		data = data[take:]
		if len(d.buf) < d.need {
			return nil
		}
		if d.need == HeaderLen {
			n, err := d.header(d.buf)
			if err != nil {
				return err
			}
			d.need = HeaderLen + n
			if n > 0 {
				continue
			}
		}
		err := h.PacketReceived(d.buf[HeaderLen:d.need])
		d.buf, d.need = d.buf[:0], 0
		if err != nil {
			d.err = err
			return err
		}
	}
	for len(data) >= HeaderLen {
		n, err := d.header(data)
		if err != nil {
			return err
		}
		if len(data) < HeaderLen+n {
			break
		}
		if err := h.PacketReceived(data[HeaderLen : HeaderLen+n]); err != nil {
			d.err = err
			return err
		}
		data = data[HeaderLen+n:]
	}
	if len(data) > 0 {
		d.buf = append(d.buf[:0], data...)
		d.need = HeaderLen
		if len(data) >= HeaderLen {
			n, _ := d.header(data) // checked above
			d.need = HeaderLen + n
		}
	}
	return nil
}

// header checks a packet's header and returns its body length.
func (d *Decoder) header(b []byte) (int, error) {
	if m := binary.BigEndian.Uint16(b[0:]); m != Magic {
		d.err = fmt.Errorf("%w: %d, want %d", ErrMagic, m, Magic)
		return 0, d.err
	}
	if v := binary.BigEndian.Uint16(b[2:]); v != Version {
		d.err = fmt.Errorf("%w: %d, want %d", ErrVersion, v, Version)
		return 0, d.err
	}
	n := binary.BigEndian.Uint32(b[4:])
	if uint64(n) > uint64(d.maxLength()) {
		d.err = fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, n, d.maxLength())
		return 0, d.err
	}
	return int(n), nil
}
