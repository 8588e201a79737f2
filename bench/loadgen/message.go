package loadgen

import (
	"bytes"
	"fmt"
)

// Message layout. Every message is one line, so that line-based servers
// (LineReceiver) echo it unchanged: a stamp of StampLen hexadecimal digits
// holding the message's sequence number on its connection, filler bytes that
// depend on the connection, and Delimiter. None of the bytes before the
// delimiter is '\r' or '\n'.
const (
	// StampLen is the length of the sequence-number stamp at the start of
	// each message.
	StampLen = 16
	// Delimiter ends every message.
	Delimiter = "\r\n"
	// MinSize is the smallest message size: the stamp and the delimiter.
	MinSize = StampLen + len(Delimiter)
)

const hexDigits = "0123456789abcdef"

const fillAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

// pattern returns the template of connection id's messages: the stamp left
// as zeros, the filler, and the delimiter.
func pattern(id, size int) []byte {
	p := make([]byte, size)
	for i := range p[:size-len(Delimiter)] {
		p[i] = fillAlphabet[(i*7+id*13)%len(fillAlphabet)]
	}
	copy(p[size-len(Delimiter):], Delimiter)
	return p
}

// stamp writes seq as StampLen hexadecimal digits into dst.
func stamp(dst []byte, seq uint64) {
	for i := StampLen - 1; i >= 0; i-- {
		dst[i] = hexDigits[seq&15]
		seq >>= 4
	}
}

// fill writes message seq of the connection whose template is pat into dst.
func fill(dst, pat []byte, seq uint64) {
	copy(dst, pat)
	stamp(dst, seq)
}

// MismatchError describes the first echoed byte that differed from what was
// sent.
type MismatchError struct {
	Conn   int    // connection number, from 0
	Seq    uint64 // message number on that connection, from 0
	Offset int    // offset of the first differing byte in the message
	Got    byte
	Want   byte
}

// Error describes the mismatch. Any goroutine.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("loadgen: echo mismatch on connection %d, message %d, byte %d: got %q, want %q",
		e.Conn, e.Seq, e.Offset, e.Got, e.Want)
}

// verify compares an echoed message with message seq of connection id, whose
// template is pat. It returns nil or the first difference.
func verify(got, pat []byte, id int, seq uint64) *MismatchError {
	var st [StampLen]byte
	stamp(st[:], seq)
	if bytes.Equal(got[:StampLen], st[:]) && bytes.Equal(got[StampLen:], pat[StampLen:]) {
		return nil
	}
	want := make([]byte, len(pat))
	fill(want, pat, seq)
	for i := range want {
		if got[i] != want[i] {
			return &MismatchError{Conn: id, Seq: seq, Offset: i, Got: got[i], Want: want[i]}
		}
	}
	return nil
}
