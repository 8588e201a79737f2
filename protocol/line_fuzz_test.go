package protocol_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// fuzzLine records everything a LineReceiver delivers, switches to raw mode
// after rawAfter lines (when not 0), and records what LineLengthExceeded gets
// before the default closes the connection.
type fuzzLine struct {
	protocol.LineReceiver
	lines    [][]byte
	raw      []byte
	rawAfter int
	long     [][]byte
}

func (p *fuzzLine) LineReceived(line []byte) {
	p.lines = append(p.lines, bytes.Clone(line))
	if len(p.lines) == p.rawAfter {
		p.SetRawMode()
	}
}

func (p *fuzzLine) RawDataReceived(data []byte) { p.raw = append(p.raw, data...) }

func (p *fuzzLine) LineLengthExceeded(remainder []byte) {
	p.long = append(p.long, bytes.Clone(remainder))
	p.LineReceiver.LineLengthExceeded(remainder)
}

// fuzzOnly records what a LineOnlyReceiver delivers.
type fuzzOnly struct {
	protocol.LineOnlyReceiver
	lines [][]byte
	long  [][]byte
}

func (p *fuzzOnly) LineReceived(line []byte) { p.lines = append(p.lines, bytes.Clone(line)) }

func (p *fuzzOnly) LineLengthExceeded(remainder []byte) {
	p.long = append(p.long, bytes.Clone(remainder))
	p.LineOnlyReceiver.LineLengthExceeded(remainder)
}

// fuzzSettings turns fuzz arguments into a delimiter (at most 8 bytes, the
// default when empty) and a MaxLength (the default when 0).
func fuzzSettings(delim []byte, maxLen uint8) ([]byte, int) {
	if len(delim) == 0 {
		delim = []byte(protocol.DefaultLineDelimiter)
	}
	if len(delim) > 8 {
		delim = delim[:8]
	}
	if maxLen == 0 {
		return delim, protocol.DefaultMaxLineLength
	}
	return delim, int(maxLen)
}

// fuzzChunks cuts data into pieces whose sizes come from cuts in turn (1 to
// 16 bytes); with no cuts, data comes whole.
func fuzzChunks(data, cuts []byte) [][]byte {
	if len(cuts) == 0 {
		return [][]byte{data}
	}
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := min(1+int(cuts[i%len(cuts)]%16), len(data))
		out = append(out, data[:n:n])
		data = data[n:]
	}
	return out
}

// checkLines compares what a receiver delivered with refSplit.
func checkLines(t *testing.T, got, long [][]byte, input, delim []byte, maxLen int, closed bool) {
	t.Helper()
	want, rest, tooLong := refSplit(input, delim, maxLen)
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\ngot  %q\nwant %q", len(got), len(want), got, want)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if !tooLong {
		if len(long) != 0 || closed {
			t.Fatalf("LineLengthExceeded(%q), closed %v; no line is too long", long, closed)
		}
		return
	}
	if len(long) != 1 || !closed {
		t.Fatalf("LineLengthExceeded called %d times, closed %v; want once, and closed", len(long), closed)
	}
	// The remainder is what had arrived from the start of the long line.
	if r := long[0]; len(r) <= maxLen || !bytes.HasPrefix(rest, r) {
		t.Fatalf("LineLengthExceeded(%q): want more than %d bytes from the start of %q", r, maxLen, rest)
	}
}

func FuzzLineReceiver(f *testing.F) {
	f.Add([]byte("hello\r\nworld\r\n\r\npartial"), []byte(""), uint8(0), []byte{0}, uint8(0))
	f.Add([]byte("a\nbb\nccc\ndddd\n"), []byte("\n"), uint8(3), []byte{1, 2}, uint8(0))
	f.Add([]byte("x<EOL>y<E<EOL>z"), []byte("<EOL>"), uint8(4), []byte{2}, uint8(1))
	f.Add([]byte("--!x---!y--!"), []byte("--!"), uint8(2), []byte{0, 1, 2}, uint8(2))
	f.Add([]byte("RAW\r\nraw data\r\nmore"), []byte("\r\n"), uint8(10), []byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, input, delimArg []byte, maxArg uint8, cuts []byte, rawAfter uint8) {
		delim, maxLen := fuzzSettings(delimArg, maxArg)
		p := &fuzzLine{rawAfter: int(rawAfter)}
		p.Delimiter, p.MaxLength = string(delim), maxLen
		tr := transporttest.New()
		protocol.MakeConnection(p, tr)

		orig := bytes.Clone(input)
		for _, c := range fuzzChunks(input, cuts) {
			p.DataReceived(c)
			if n := p.Buffered(); n >= maxLen+len(delim) {
				t.Fatalf("Buffered() = %d, over MaxLength+len(Delimiter)-1 = %d", n, maxLen+len(delim)-1)
			}
		}
		if !bytes.Equal(input, orig) {
			t.Fatalf("input changed from %q to %q", orig, input)
		}

		// In raw mode from line rawAfter on, the lines stop there and the
		// rest comes raw.
		want, _, _ := refSplit(input, delim, maxLen)
		if p.rawAfter > 0 && len(want) >= p.rawAfter {
			end := 0
			for _, l := range want[:p.rawAfter] {
				end += len(l) + len(delim)
			}
			checkLines(t, p.lines, p.long, input[:end], delim, maxLen, tr.Disconnecting())
			if !bytes.Equal(p.raw, input[end:]) {
				t.Fatalf("raw data %q, want %q", p.raw, input[end:])
			}
			return
		}
		if len(p.raw) != 0 {
			t.Fatalf("raw data %q before raw mode", p.raw)
		}
		checkLines(t, p.lines, p.long, input, delim, maxLen, tr.Disconnecting())
		if tr.Disconnecting() && !errors.Is(p.Err(), protocol.ErrLineTooLong) {
			t.Fatalf("closed, and Err() = %v, want %v", p.Err(), protocol.ErrLineTooLong)
		}
	})
}

func FuzzLineOnlyReceiver(f *testing.F) {
	f.Add([]byte("hello\r\nworld\r\n\r\npartial"), []byte(""), uint8(0), []byte{0})
	f.Add([]byte("a\nbb\nccc\ndddd\n"), []byte("\n"), uint8(3), []byte{1, 2})
	f.Add([]byte("x<EOL>y<E<EOL>z"), []byte("<EOL>"), uint8(4), []byte{2})
	f.Add([]byte("abababab"), []byte("abab"), uint8(1), []byte{0, 1})
	f.Fuzz(func(t *testing.T, input, delimArg []byte, maxArg uint8, cuts []byte) {
		delim, maxLen := fuzzSettings(delimArg, maxArg)
		p := &fuzzOnly{}
		p.Delimiter, p.MaxLength = string(delim), maxLen
		tr := transporttest.New()
		protocol.MakeConnection(p, tr)

		orig := bytes.Clone(input)
		for _, c := range fuzzChunks(input, cuts) {
			p.DataReceived(c)
			if n := p.Buffered(); n >= maxLen+len(delim) {
				t.Fatalf("Buffered() = %d, over MaxLength+len(Delimiter)-1 = %d", n, maxLen+len(delim)-1)
			}
		}
		if !bytes.Equal(input, orig) {
			t.Fatalf("input changed from %q to %q", orig, input)
		}
		checkLines(t, p.lines, p.long, input, delim, maxLen, tr.Disconnecting())
		if tr.Disconnecting() && !errors.Is(p.Err(), protocol.ErrLineTooLong) {
			t.Fatalf("closed, and Err() = %v, want %v", p.Err(), protocol.ErrLineTooLong)
		}
	})
}
