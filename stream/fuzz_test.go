package stream_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport"
)

// framing is what a read loop made of data: the records, and whether the
// read pending at the end failed as unsatisfiable (else it failed because
// the stream closed).
type framing struct {
	records       []string
	unsatisfiable bool
}

// frame feeds data to a stream in pieces whose sizes cycle through sizes,
// reading with read in a loop, then closes the connection cleanly.
func frame(t *testing.T, data []byte, sizes []int, read func(*stream.Stream, func([]byte, error))) framing {
	t.Helper()
	var r results
	s, _ := connect(t, func(s *stream.Stream) {
		loop(s, func(cb func([]byte, error)) { read(s, cb) }, &r)
	})
	for i := 0; len(data) > 0 && !s.Closed(); i++ {
		n := min(sizes[i%len(sizes)], len(data))
		s.DataReceived(data[:n])
		data = data[n:]
	}
	s.ConnectionLost(transport.ErrConnectionDone)
	if !errors.Is(r.err, stream.ErrStreamClosed) {
		t.Fatalf("the pending read ended with %v, want ErrStreamClosed", r.err)
	}
	return framing{r.data, errors.Is(r.err, stream.ErrUnsatisfiableRead)}
}

// chunkSizes turns fuzz bytes into piece sizes of 1 to 17 bytes; none
// gives the whole input at once.
func chunkSizes(seed []byte) []int {
	if len(seed) == 0 {
		return []int{1 << 30}
	}
	sizes := make([]int, len(seed))
	for i, b := range seed {
		sizes[i] = 1 + int(b)%17
	}
	return sizes
}

// FuzzReadUntil checks ReadUntil's records, however the input is split,
// against bytes.Index on the whole input.
func FuzzReadUntil(f *testing.F) {
	f.Add([]byte("ab\r\ncd\r\n\r\nx"), []byte("\r\n"), uint8(0), []byte{1})
	f.Add([]byte("aaabaabxaaab"), []byte("aab"), uint8(5), []byte{2, 1})
	f.Add([]byte("abcdefgh\nij\n"), []byte("\n"), uint8(4), []byte{})
	f.Fuzz(func(t *testing.T, data, delim []byte, maxBytes uint8, seed []byte) {
		if len(delim) == 0 || len(delim) > 8 || len(data) > 4096 {
			return
		}
		var want framing
		for rest := data; ; {
			i := bytes.Index(rest, delim)
			end := i + len(delim)
			if maxBytes > 0 && ((i >= 0 && end > int(maxBytes)) || (i < 0 && len(rest) >= int(maxBytes))) {
				want.unsatisfiable = true
				break
			}
			if i < 0 {
				break
			}
			want.records = append(want.records, string(rest[:end]))
			rest = rest[end:]
		}
		got := frame(t, data, chunkSizes(seed), func(s *stream.Stream, cb func([]byte, error)) {
			s.ReadUntil(delim, int(maxBytes), cb)
		})
		if !equal(got.records, want.records) || got.unsatisfiable != want.unsatisfiable {
			t.Errorf("ReadUntil(%q, %d) split %q (pieces %v) into %q (unsatisfiable %v), want %q (%v)",
				delim, maxBytes, data, chunkSizes(seed), got.records, got.unsatisfiable, want.records, want.unsatisfiable)
		}
	})
}

// fixedPattern builds a regular expression whose matches all have one
// length (each byte of pat is a letter, or a class of two letters), over
// the alphabet a-d: such a pattern frames the same however the input is
// split, and the fuzzer finds matches often.
func fixedPattern(pat []byte) string {
	var b strings.Builder
	for _, c := range pat {
		l := 'a' + rune(c%4)
		if c&0x80 != 0 {
			fmt.Fprintf(&b, "[%c%c]", l, 'a'+(l-'a'+1)%4)
		} else {
			b.WriteRune(l)
		}
	}
	return b.String()
}

// FuzzReadUntilRegex checks ReadUntilRegex's records, however the input is
// split, against FindIndex on the whole input.
func FuzzReadUntilRegex(f *testing.F) {
	f.Add([]byte("abcabdcab"), []byte{0, 1}, uint8(0), []byte{1})
	f.Add([]byte("aaaaabbbbbcccc"), []byte{0x81, 1}, uint8(3), []byte{3, 1})
	f.Fuzz(func(t *testing.T, data, pat []byte, maxBytes uint8, seed []byte) {
		if len(pat) == 0 || len(pat) > 6 || len(data) > 2048 {
			return
		}
		in := make([]byte, len(data))
		for i, c := range data {
			in[i] = 'a' + c%4
		}
		re := regexp.MustCompile(fixedPattern(pat))
		var want framing
		for rest := in; ; {
			loc := re.FindIndex(rest)
			if maxBytes > 0 && ((loc != nil && loc[1] > int(maxBytes)) || (loc == nil && len(rest) > int(maxBytes))) {
				want.unsatisfiable = true
				break
			}
			if loc == nil {
				break
			}
			want.records = append(want.records, string(rest[:loc[1]]))
			rest = rest[loc[1]:]
		}
		got := frame(t, in, chunkSizes(seed), func(s *stream.Stream, cb func([]byte, error)) {
			s.ReadUntilRegex(re, int(maxBytes), cb)
		})
		if !equal(got.records, want.records) || got.unsatisfiable != want.unsatisfiable {
			t.Errorf("ReadUntilRegex(%s, %d) split %q (pieces %v) into %q (unsatisfiable %v), want %q (%v)",
				re, maxBytes, in, chunkSizes(seed), got.records, got.unsatisfiable, want.records, want.unsatisfiable)
		}
	})
}
