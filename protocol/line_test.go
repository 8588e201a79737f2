package protocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// lineRec is a LineReceiver that records what it is given, as "line X" and
// "raw X" events (consecutive raw pieces merged, since their sizes depend on
// the chunking), and runs the hooks a test sets. onRaw returns how much of the
// raw data the protocol used: only that much is recorded.
type lineRec struct {
	protocol.LineReceiver
	events []string
	onLine func(p *lineRec, line []byte)
	onRaw  func(p *lineRec, data []byte) int
}

func (p *lineRec) LineReceived(line []byte) {
	p.events = append(p.events, "line "+string(line))
	if p.onLine != nil {
		p.onLine(p, line)
	}
}

func (p *lineRec) RawDataReceived(data []byte) {
	used := data
	if p.onRaw != nil {
		used = data[:p.onRaw(p, data)]
	}
	if n := len(p.events); n > 0 && strings.HasPrefix(p.events[n-1], "raw ") {
		p.events[n-1] += string(used)
	} else {
		p.events = append(p.events, "raw "+string(used))
	}
}

// onlyRec is a LineOnlyReceiver that records its lines.
type onlyRec struct {
	protocol.LineOnlyReceiver
	events []string
	onLine func(p *onlyRec, line []byte)
}

func (p *onlyRec) LineReceived(line []byte) {
	p.events = append(p.events, "line "+string(line))
	if p.onLine != nil {
		p.onLine(p, line)
	}
}

// lineProto is what the tests shared by both receivers need of them.
type lineProto interface {
	protocol.Protocol
	Buffered() int
	Err() error
	SendLine(line []byte) error
}

// lineKinds builds each receiver with the given settings, and a way to read
// its events and to make it lose the connection on a given line.
var lineKinds = []struct {
	name string
	make func(delim string, maxLen int, quitOn string) (lineProto, func() []string)
}{
	{"LineReceiver", func(delim string, maxLen int, quitOn string) (lineProto, func() []string) {
		p := &lineRec{}
		p.Delimiter, p.MaxLength = delim, maxLen
		p.onLine = func(p *lineRec, line []byte) {
			if quitOn != "" && string(line) == quitOn {
				p.Transport().LoseConnection()
			}
		}
		return p, func() []string { return p.events }
	}},
	{"LineOnlyReceiver", func(delim string, maxLen int, quitOn string) (lineProto, func() []string) {
		p := &onlyRec{}
		p.Delimiter, p.MaxLength = delim, maxLen
		p.onLine = func(p *onlyRec, line []byte) {
			if quitOn != "" && string(line) == quitOn {
				p.Transport().LoseConnection()
			}
		}
		return p, func() []string { return p.events }
	}},
}

// feed gives input to p in pieces of size bytes (see transporttest.Chunks).
func feed(p protocol.Protocol, input string, size int) {
	for _, piece := range transporttest.Chunks([]byte(input), size) {
		p.DataReceived(piece)
	}
}

func lines(ls ...string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = "line " + l
	}
	return out
}

func TestLineReceivers(t *testing.T) {
	tests := []struct {
		name         string
		delim        string
		maxLen       int
		quitOn       string
		input        string
		want         []string
		wantBuffered int
		wantErr      error
		wantClosed   bool
	}{
		{name: "lines", input: "one\r\ntwo\r\nthree\r\n", want: lines("one", "two", "three")},
		{name: "empty lines", input: "\r\n\r\nx\r\n\r\n", want: lines("", "", "x", "")},
		{name: "incomplete last line is kept", input: "a\r\nbcd", want: lines("a"), wantBuffered: 3},
		{name: "half a delimiter is kept", input: "a\r\nb\r", want: lines("a"), wantBuffered: 2},
		{name: "lone CR and LF are data", input: "a\rb\nc\n\r\r\n", want: lines("a\rb\nc\n\r")},
		{name: "no data", input: "", want: nil},
		{name: "LF delimiter", delim: "\n", input: "a\nb\r\n\n", want: lines("a", "b\r", "")},
		{name: "multi-byte delimiter", delim: "<EOL>", input: "one<EOL>two<E<EOL><EOL>x<EO", want: lines("one", "two<E", ""), wantBuffered: 4},
		{name: "self-overlapping delimiter", delim: "--!", input: "x---!y--!--!-", want: lines("x-", "y", ""), wantBuffered: 1},
		{name: "repetitive delimiter", delim: "abab", input: "xabababyababab", want: lines("x", "aby"), wantBuffered: 2},
		{name: "binary delimiter", delim: "\x00\xff", input: "a\x00\x00\xffb\xff\x00\xff", want: lines("a\x00", "b\xff")},
		{name: "line of MaxLength", maxLen: 3, input: "abc\r\nde\r\n", want: lines("abc", "de")},
		{name: "buffered line of MaxLength", maxLen: 3, input: "abc\r", want: nil, wantBuffered: 4},
		{name: "line of MaxLength+1", maxLen: 3, input: "ab\r\nabcd\r\nx\r\n", want: lines("ab"), wantErr: protocol.ErrLineTooLong, wantClosed: true},
		{name: "unfinished line of MaxLength+1", maxLen: 3, input: "ab\r\nabcd", want: lines("ab"), wantBuffered: 4},
		{name: "unfinished line of MaxLength+1 and a CR", maxLen: 3, input: "ab\r\nabcd\r", want: lines("ab"), wantErr: protocol.ErrLineTooLong, wantClosed: true},
		{name: "long line without delimiter", maxLen: 3, input: "abcdefghij", want: nil, wantErr: protocol.ErrLineTooLong, wantClosed: true},
		{name: "MaxLength with a long delimiter", delim: "<EOL>", maxLen: 2, input: "ab<EOL>ab<EO", want: lines("ab"), wantBuffered: 5},
		{name: "MaxLength+1 with a long delimiter", delim: "<EOL>", maxLen: 2, input: "ab<EOL>abc<EOL>", want: lines("ab"), wantErr: protocol.ErrLineTooLong, wantClosed: true},
		{name: "default MaxLength", input: strings.Repeat("a", 16384) + "\r\n", want: lines(strings.Repeat("a", 16384))},
		{name: "default MaxLength+1", input: strings.Repeat("a", 16385) + "\r\n", wantErr: protocol.ErrLineTooLong, wantClosed: true},
		{name: "LoseConnection stops the lines", quitOn: "QUIT", input: "a\r\nQUIT\r\nb\r\nc\r\n", want: lines("a", "QUIT"), wantClosed: true},
		{name: "LoseConnection on the last line", quitOn: "QUIT", input: "a\r\nQUIT\r\n", want: lines("a", "QUIT"), wantClosed: true},
	}
	for _, kind := range lineKinds {
		for _, tt := range tests {
			for _, size := range transporttest.ChunkSizes {
				t.Run(fmt.Sprintf("%s/%s/chunk=%d", kind.name, tt.name, size), func(t *testing.T) {
					p, events := kind.make(tt.delim, tt.maxLen, tt.quitOn)
					tr := transporttest.New()
					protocol.MakeConnection(p, tr)
					feed(p, tt.input, size)

					if got := events(); !slices.Equal(got, tt.want) {
						t.Errorf("events = %q, want %q", got, tt.want)
					}
					if tt.wantClosed {
						if !tr.Disconnecting() {
							t.Error("connection still open")
						}
					} else {
						if tr.Disconnecting() {
							t.Error("connection closed")
						}
						if got := p.Buffered(); got != tt.wantBuffered {
							t.Errorf("Buffered() = %d, want %d", got, tt.wantBuffered)
						}
					}
					if got := p.Err(); !errors.Is(got, tt.wantErr) || (got == nil) != (tt.wantErr == nil) {
						t.Errorf("Err() = %v, want %v", got, tt.wantErr)
					}
					checkLineCloseError(t, tr, p.Err(), tt.wantErr != nil, lineMaxOf(tt.maxLen))
				})
			}
		}
	}
}

func lineMaxOf(m int) int {
	if m <= 0 {
		return protocol.DefaultMaxLineLength
	}
	return m
}

// checkLineCloseError checks how a line receiver closed: with
// CloseWithError and the error Err returns, which gives the sizes, when a
// line was too long; not with CloseWithError otherwise.
func checkLineCloseError(t *testing.T, tr *transporttest.Transport, recorded error, tooLong bool, maxLen int) {
	t.Helper()
	got := tr.CloseError()
	if !tooLong {
		if got != nil {
			t.Errorf("CloseError() = %v, want nil", got)
		}
		return
	}
	if got == nil || got != recorded {
		t.Fatalf("CloseError() = %v, want Err() = %v", got, recorded)
	}
	msg := got.Error()
	if !strings.HasPrefix(msg, "protocol: line too long: ") || !strings.HasSuffix(msg, fmt.Sprintf(", MaxLength is %d", maxLen)) {
		t.Errorf("CloseError() = %q, want the sizes and MaxLength %d", msg, maxLen)
	}
	if tr.Aborted() {
		t.Error("connection aborted, want CloseWithError (which flushes)")
	}
}

// TestLineTooLongMessage pins the two forms of the message: a complete line
// (its length) and an unfinished one (the bytes received so far).
func TestLineTooLongMessage(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"ok\r\n0123456789\r\nnext\r\n", "protocol: line too long: line of 10 bytes, MaxLength is 8"},
		{"ok\r\n0123456789012", "protocol: line too long: 13 bytes without a delimiter, MaxLength is 8"},
	}
	for _, kind := range lineKinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.want, func(t *testing.T) {
				p, _ := kind.make("", 8, "")
				tr := transporttest.New()
				protocol.MakeConnection(p, tr)
				feed(p, tt.input, 0)
				if err := tr.CloseError(); err == nil || err.Error() != tt.want || !errors.Is(err, protocol.ErrLineTooLong) {
					t.Errorf("CloseError() = %v, want %q matching ErrLineTooLong", err, tt.want)
				}
			})
		}
	}
}

// TestLineReceiverDisconnected checks that nothing is delivered once the
// transport is disconnecting.
func TestLineReceiverDisconnected(t *testing.T) {
	for _, kind := range lineKinds {
		t.Run(kind.name, func(t *testing.T) {
			p, events := kind.make("", 0, "")
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			feed(p, "a\r\nb", 0)
			tr.LoseConnection()
			feed(p, "\r\nc\r\n", 0)
			if got, want := events(), lines("a"); !slices.Equal(got, want) {
				t.Errorf("events = %q, want %q", got, want)
			}
		})
	}
}

// rawHeader switches to raw mode for n bytes after a line "RAW n", then back
// to lines with what follows them: the pattern of an HTTP body.
func rawHeader(p *lineRec) {
	left := 0
	p.onLine = func(p *lineRec, line []byte) {
		if n, ok := strings.CutPrefix(string(line), "RAW "); ok {
			left, _ = strconv.Atoi(n)
			p.SetRawMode()
		}
	}
	p.onRaw = func(p *lineRec, data []byte) int {
		n := min(left, len(data))
		left -= n
		if left == 0 {
			p.SetLineMode(data[n:])
		}
		return n
	}
}

func TestLineReceiverModes(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(p *lineRec)
		input        string
		after        func(p *lineRec)
		want         []string
		wantBuffered int
		wantClosed   bool
	}{
		{
			name: "raw mode mid-chunk",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "RAW" {
						p.SetRawMode()
					}
				}
			},
			input: "a\r\nRAW\r\nxyz\r\nmore",
			want:  []string{"line a", "line RAW", "raw xyz\r\nmore"},
		},
		{
			name: "raw mode with a buffered line",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "RAW" {
						p.SetRawMode()
					}
				}
			},
			input: "RAW\r\n",
			after: func(p *lineRec) {
				p.SetLineMode(nil)
				p.DataReceived([]byte("par"))
				p.SetRawMode()
				p.DataReceived([]byte("tial\r\n"))
			},
			want: []string{"line RAW", "raw partial\r\n"},
		},
		{
			name:  "SetLineMode with extra from RawDataReceived",
			setup: rawHeader,
			input: "RAW 5\r\nhello world\r\nRAW 3\r\nabc\r\nbye\r\n",
			want:  []string{"line RAW 5", "raw hello", "line  world", "line RAW 3", "raw abc", "line ", "line bye"},
		},
		{
			name:         "SetLineMode with extra at the end of the data",
			setup:        rawHeader,
			input:        "RAW 2\r\nokyes\r\nno",
			want:         []string{"line RAW 2", "raw ok", "line yes"},
			wantBuffered: 2,
		},
		{
			name: "SetLineMode with extra outside a callback",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "RAW" {
						p.SetRawMode()
					}
				}
			},
			input: "RAW\r\nraw",
			after: func(p *lineRec) {
				p.SetLineMode([]byte("x\r\ny"))
			},
			want:         []string{"line RAW", "raw raw", "line x"},
			wantBuffered: 1,
		},
		{
			name: "SetLineMode feeds extra after the buffer",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "RAW" {
						p.SetRawMode()
					}
				}
			},
			input: "RAW\r\n",
			after: func(p *lineRec) {
				p.SetLineMode(nil)
				p.DataReceived([]byte("hel"))
				p.SetRawMode()
				p.SetLineMode([]byte("lo\r\n"))
			},
			want: []string{"line RAW", "line hello"},
		},
		{
			name: "LoseConnection in RawDataReceived",
			setup: func(p *lineRec) {
				p.SetRawMode()
				p.onRaw = func(p *lineRec, data []byte) int {
					p.Transport().LoseConnection()
					return len(data)
				}
			},
			input:      "x",
			after:      func(p *lineRec) { p.DataReceived([]byte("y")) },
			want:       []string{"raw x"},
			wantClosed: true,
		},
		{
			name: "new Delimiter from LineReceived",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					switch string(line) {
					case "LF":
						p.Delimiter = "\n"
					case "CRLF":
						p.Delimiter = ""
					}
				}
			},
			input:        "a\r\nLF\r\nb\r\nc\nCRLF\nd\ne\r\nf",
			want:         lines("a", "LF", "b\r", "c", "CRLF", "d\ne"),
			wantBuffered: 1,
		},
		{
			name: "new MaxLength from LineReceived",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "SHORT" {
						p.MaxLength = 2
					}
				}
			},
			input:      "long line\r\nSHORT\r\nok\r\nnot ok\r\n",
			want:       lines("long line", "SHORT", "ok"),
			wantClosed: true,
		},
		{
			name:  "new Delimiter between chunks",
			input: "a\nb",
			after: func(p *lineRec) {
				p.Delimiter = "\n"
				p.DataReceived([]byte("c\n"))
			},
			want: lines("a", "bc"),
		},
		{
			name: "LoseConnection discards the rest",
			setup: func(p *lineRec) {
				p.onLine = func(p *lineRec, line []byte) {
					if string(line) == "QUIT" {
						p.Transport().LoseConnection()
					}
				}
			},
			input: "a\r\nQUIT\r\nb\r\nc",
			after: func(p *lineRec) {
				p.events = append(p.events, fmt.Sprintf("buffered %d %q", p.Buffered(), p.ClearLineBuffer()))
			},
			want:       []string{"line a", "line QUIT", `buffered 0 ""`},
			wantClosed: true,
		},
		{
			name:         "ClearLineBuffer outside a callback",
			input:        "a\r\npart",
			after:        func(p *lineRec) { p.events = append(p.events, "clear "+string(p.ClearLineBuffer())) },
			want:         []string{"line a", "clear part"},
			wantBuffered: 0,
		},
		{
			name:  "ClearLineBuffer with nothing buffered",
			input: "a\r\n",
			after: func(p *lineRec) {
				if got := p.ClearLineBuffer(); got != nil {
					p.events = append(p.events, fmt.Sprintf("clear %q", got))
				}
				p.DataReceived([]byte("b\r\n"))
			},
			want: lines("a", "b"),
		},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				p := &lineRec{}
				tr := transporttest.New()
				protocol.MakeConnection(p, tr)
				if tt.setup != nil {
					tt.setup(p)
				}
				feed(p, tt.input, size)
				if tt.after != nil {
					tt.after(p)
				}
				if got := p.events; !slices.Equal(got, tt.want) {
					t.Errorf("events = %q, want %q", got, tt.want)
				}
				if got := tr.Disconnecting(); got != tt.wantClosed {
					t.Errorf("Disconnecting() = %v, want %v", got, tt.wantClosed)
				}
				if got := p.Buffered(); !tt.wantClosed && got != tt.wantBuffered {
					t.Errorf("Buffered() = %d, want %d", got, tt.wantBuffered)
				}
			})
		}
	}
}

// TestLineReceiverInsideCallback covers calls whose effect depends on how much
// of the data has arrived when they are made: ClearLineBuffer and a nested
// DataReceived from LineReceived. The data comes in one chunk, then byte by
// byte.
func TestLineReceiverInsideCallback(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		onCmd func(p *lineRec)
		want  []string
	}{
		{"ClearLineBuffer, one chunk", 0, func(p *lineRec) {
			p.events = append(p.events, fmt.Sprintf("clear %q", p.ClearLineBuffer()))
		}, []string{"line a", "line CMD", `clear "b\r\nc"`}},
		{"ClearLineBuffer, byte by byte", 1, func(p *lineRec) {
			p.events = append(p.events, fmt.Sprintf("clear %q", p.ClearLineBuffer()))
		}, []string{"line a", "line CMD", `clear ""`, "line b"}},
		{"nested DataReceived, one chunk", 0, func(p *lineRec) {
			p.DataReceived([]byte("x\r\n"))
		}, lines("a", "CMD", "b", "cx")},
		{"nested DataReceived, byte by byte", 1, func(p *lineRec) {
			p.DataReceived([]byte("x\r\n"))
		}, lines("a", "CMD", "x", "b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &lineRec{}
			p.onLine = func(p *lineRec, line []byte) {
				if string(line) == "CMD" {
					tt.onCmd(p)
				}
			}
			protocol.MakeConnection(p, transporttest.New())
			feed(p, "a\r\nCMD\r\nb\r\nc", tt.size)
			if !slices.Equal(p.events, tt.want) {
				t.Errorf("events = %q, want %q", p.events, tt.want)
			}
		})
	}
}

// keeper overrides LineLengthExceeded and keeps the connection open.
type keeper struct {
	protocol.LineReceiver
	events []string
}

func (k *keeper) LineReceived(line []byte) { k.events = append(k.events, "line "+string(line)) }
func (k *keeper) LineLengthExceeded(remainder []byte) {
	k.events = append(k.events, "long "+string(remainder))
}

func TestLineLengthExceededOverride(t *testing.T) {
	tests := []struct {
		name  string
		input string
		size  int
		want  []string
	}{
		{"complete line, one chunk", "ok\r\ntoo long\r\nnext\r\n", 0, []string{"line ok", "long too long\r\nnext\r\n"}},
		{"unfinished line, one chunk", "ok\r\ntoo long", 0, []string{"line ok", "long too long"}},
		{"unfinished line, in pieces", "ok\r\ntoo long\r\nnext\r\n", 3, []string{"line ok", "long too long", "line ", "line next"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keeper{}
			k.MaxLength = 4
			tr := transporttest.New()
			protocol.MakeConnection(k, tr)
			feed(k, tt.input, tt.size)
			if !slices.Equal(k.events, tt.want) {
				t.Errorf("events = %q, want %q", k.events, tt.want)
			}
			if tr.Disconnecting() {
				t.Error("connection closed by the default LineLengthExceeded")
			}
			if !errors.Is(k.Err(), protocol.ErrLineTooLong) {
				t.Errorf("Err() = %v, want ErrLineTooLong recorded even with an override", k.Err())
			}
		})
	}
}

func TestSendLine(t *testing.T) {
	tests := []struct {
		name  string
		delim string
		lines []string
		want  string
	}{
		{"default delimiter", "", []string{"hello", "", "world"}, "hello\r\n\r\nworld\r\n"},
		{"LF", "\n", []string{"a", "b"}, "a\nb\n"},
		{"multi-byte", "<EOL>", []string{"a"}, "a<EOL>"},
	}
	for _, kind := range lineKinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				p, _ := kind.make(tt.delim, 0, "")
				tr := transporttest.New()
				protocol.MakeConnection(p, tr)
				for _, l := range tt.lines {
					if err := p.SendLine([]byte(l)); err != nil {
						t.Fatalf("SendLine(%q) = %v", l, err)
					}
				}
				if got := string(tr.Value()); got != tt.want {
					t.Errorf("wrote %q, want %q", got, tt.want)
				}
				tr.LoseConnection()
				if err := p.SendLine([]byte("late")); !errors.Is(err, transport.ErrClosed) {
					t.Errorf("SendLine after close = %v, want %v", err, transport.ErrClosed)
				}
			})
		}
	}
}

// linesNoRaw has LineReceived but no RawDataReceived.
type linesNoRaw struct{ protocol.LineReceiver }

func (*linesNoRaw) LineReceived([]byte) {}

// TestLineReceiverMisuse covers the programming errors that still panic:
// SetRawMode without RawDataReceived, and data fed without MakeConnection.
// A protocol without LineReceived is refused by MakeConnection instead (see
// TestMakeConnectionRefusesMissingCallback).
func TestLineReceiverMisuse(t *testing.T) {
	tests := []struct {
		name    string
		run     func()
		wantErr error
		wantMsg string
	}{
		{"no RawDataReceived", func() {
			p := &linesNoRaw{}
			protocol.MakeConnection(p, transporttest.New())
			p.SetRawMode()
		}, protocol.ErrNoRawDataReceived, "protocol: SetRawMode without a RawDataReceived method: *protocol_test.linesNoRaw has no RawDataReceived(data []byte) method"},
		{"before MakeConnection", func() {
			p := &lineRec{}
			p.DataReceived([]byte("x\r\n"))
		}, protocol.ErrNoLineReceived, "protocol: line receiver without a LineReceived method: LineReceiver fed data before MakeConnection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("panic %v, want an error matching %v", err, tt.wantErr)
				}
				if got := err.Error(); got != tt.wantMsg {
					t.Errorf("panic %q, want %q", got, tt.wantMsg)
				}
			}()
			tt.run()
		})
	}
}

// TestLineReceiverLineLifetime checks that a line handed over does not grow
// into the data after it: appending to it must not overwrite what follows.
func TestLineReceiverLineLifetime(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			p := &lineRec{}
			p.onLine = func(p *lineRec, line []byte) {
				_ = append(line, "appended"...)
			}
			protocol.MakeConnection(p, transporttest.New())
			input := "ab\r\ncd\r\nef\r\n"
			data := []byte(input)
			for _, piece := range transporttest.Chunks(data, size) {
				p.DataReceived(piece)
			}
			if want := lines("ab", "cd", "ef"); !slices.Equal(p.events, want) {
				t.Errorf("events = %q, want %q", p.events, want)
			}
			if string(data) != input {
				t.Errorf("input changed to %q", data)
			}
		})
	}
}

// refSplit is the reference the receivers are checked against: the lines of
// input split at the first delimiter each time, up to the first line longer
// than maxLen, and what is left from there. tooLong says whether a receiver
// must find a line too long: a complete one, or an unfinished one that cannot
// end within maxLen whatever comes next.
func refSplit(input, delim []byte, maxLen int) (lines [][]byte, rest []byte, tooLong bool) {
	for {
		i := bytes.Index(input, delim)
		if i < 0 {
			return lines, input, len(input) >= maxLen+len(delim)
		}
		if i > maxLen {
			return lines, input, true
		}
		lines = append(lines, input[:i])
		input = input[i+len(delim):]
	}
}

// randomChunks cuts data at random places.
func randomChunks(rng *rand.Rand, data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(1+rng.IntN(8), len(data))
		out = append(out, data[:n:n])
		data = data[n:]
	}
	return out
}

// TestLineReceiversRandom compares both receivers with refSplit on random
// input over a small alphabet, random delimiters and random chunking.
func TestLineReceiversRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab\r\n"
	for i := range 2000 {
		input := make([]byte, rng.IntN(64))
		for j := range input {
			input[j] = alphabet[rng.IntN(len(alphabet))]
		}
		delim := make([]byte, 1+rng.IntN(3))
		for j := range delim {
			delim[j] = alphabet[rng.IntN(len(alphabet))]
		}
		maxLen := 1 + rng.IntN(12)
		chunks := randomChunks(rng, input)
		wantLines, _, wantLong := refSplit(input, delim, maxLen)
		want := make([]string, len(wantLines))
		for j, l := range wantLines {
			want[j] = "line " + string(l)
		}
		for _, kind := range lineKinds {
			p, events := kind.make(string(delim), maxLen, "")
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			for _, c := range chunks {
				p.DataReceived(c)
				if !tr.Disconnecting() && p.Buffered() >= maxLen+len(delim) {
					t.Fatalf("%s case %d: Buffered() = %d, over MaxLength+len(Delimiter)-1 = %d", kind.name, i, p.Buffered(), maxLen+len(delim)-1)
				}
			}
			if got := events(); !slices.Equal(got, want) {
				t.Fatalf("%s case %d: input %q delimiter %q MaxLength %d chunks %q:\nevents %q\nwant   %q", kind.name, i, input, delim, maxLen, chunks, got, want)
			}
			if got := p.Err() != nil; got != wantLong {
				t.Fatalf("%s case %d: input %q delimiter %q MaxLength %d: too long %v, want %v", kind.name, i, input, delim, maxLen, got, wantLong)
			}
		}
	}
}

// upper answers each line in capitals.
type upper struct{ protocol.LineReceiver }

func (u *upper) LineReceived(line []byte) { _ = u.SendLine(bytes.ToUpper(line)) }

func ExampleLineReceiver() {
	tr := transporttest.New()
	p := &upper{}
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("hello\r\nwor"))
	p.DataReceived([]byte("ld\r\n"))
	fmt.Printf("%q\n", tr.Value())
	// Output:
	// "HELLO\r\nWORLD\r\n"
}

// header reads "Length: n" lines up to an empty line, then n bytes of body in
// raw mode, then lines again: the shape of an HTTP/1.1 request.
type header struct {
	protocol.LineReceiver
	length int
	body   []byte
}

func (h *header) LineReceived(line []byte) {
	if n, ok := strings.CutPrefix(string(line), "Length: "); ok {
		h.length, _ = strconv.Atoi(n)
		return
	}
	if len(line) == 0 {
		h.SetRawMode()
		return
	}
	fmt.Printf("line %q\n", line)
}

func (h *header) RawDataReceived(data []byte) {
	n := min(h.length-len(h.body), len(data))
	h.body = append(h.body, data[:n]...)
	if len(h.body) == h.length {
		fmt.Printf("body %q\n", h.body)
		h.body = h.body[:0]
		h.SetLineMode(data[n:])
	}
}

func ExampleLineReceiver_SetRawMode() {
	p := &header{}
	protocol.MakeConnection(p, transporttest.New())
	p.DataReceived([]byte("Length: 5\r\n\r\nhelloNEXT\r\n"))
	// Output:
	// body "hello"
	// line "NEXT"
}

func TestSendLineFromManyGoroutines(t *testing.T) {
	tr := transporttest.New()
	r := &onlyRec{}
	protocol.MakeConnection(r, tr)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := r.SendLine([]byte("abc")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := string(tr.Value()), strings.Repeat("abc\r\n", 8*200); got != want {
		t.Fatalf("got %d bytes, want %d of whole lines", len(got), len(want))
	}
}
