package protocol_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestNetstringWire(t *testing.T) {
	tests := []struct {
		s    string
		want string
	}{
		{"hello", "5:hello,"},
		{"", "0:,"},
		{"hello world!", "12:hello world!,"},
		{"a,b:c", "5:a,b:c,"},
		{strings.Repeat("x", 1000), "1000:" + strings.Repeat("x", 1000) + ","},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.10q", tt.s), func(t *testing.T) {
			p, tr := strConnect(strNetstring.plain)
			if err := p.SendString([]byte(tt.s)); err != nil {
				t.Fatalf("SendString() = %v, want nil", err)
			}
			if got := string(tr.Value()); got != tt.want {
				t.Errorf("SendString(%.20q) wrote %.30q, want %.30q", tt.s, got, tt.want)
			}
			for _, size := range transporttest.ChunkSizes {
				q, _ := strConnect(strNetstring.plain)
				strFeed(q, []byte(tt.want), size)
				if got := q.ev().strings; len(got) != 1 || got[0] != tt.s {
					t.Errorf("chunks of %d: received %.30q, want [%.30q]", size, got, tt.s)
				}
			}
		})
	}
}

func TestNetstringParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		maxLength int
		input     string
		want      []string // delivered before the error
		errAt     int      // the error is found once input[:errAt] was fed
		tooLong   bool     // the error matches ErrLengthLimitExceeded
	}{
		{"missing length", 0, ":hello,", nil, 1, false},
		{"missing length after a string", 0, "2:ab,:,", []string{"ab"}, 6, false},
		{"not a digit", 0, "x:,", nil, 1, false},
		{"space before the length", 0, " 5:hello,", nil, 1, false},
		{"negative length", 0, "-1:a,", nil, 1, false},
		{"leading zero", 0, "05:hello,", nil, 2, false},
		{"two zeros", 0, "00:,", nil, 2, false},
		{"non-digit in the length", 0, "5x:hello,", nil, 2, false},
		{"non-digit after a zero", 0, "0x", nil, 2, false},
		{"missing comma", 0, "5:hello!", nil, 8, false},
		{"missing comma after an empty payload", 0, "0:x", nil, 3, false},
		{"payload longer than announced", 0, "3:abcd,", nil, 6, false},
		{"missing comma after strings", 0, "1:a,1:b,1:cd", []string{"a", "b"}, 12, false},
		{"MaxLength+1", 10, "11:hello world,", nil, 2, true},
		{"more digits than MaxLength", 10, "100:", nil, 3, true},
		{"MaxLength+1 after a string", 10, "10:0123456789,11:", []string{"0123456789"}, 16, true},
		{"default MaxLength+1", 0, "100000:", nil, 6, true},
		{"huge length", 0, "99999999999999999999999999999999:", nil, 6, true},
		{"length overflowing 64 bits", math.MaxInt, "2" + strings.Repeat("0", len(strconv.Itoa(math.MaxInt))) + ":", nil, len(strconv.Itoa(math.MaxInt)) + 1, true},
		{"huge length, largest MaxLength", math.MaxInt, "99999999999999999999999999999999:", nil, len(strconv.Itoa(math.MaxInt)), true},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", tt.name, size), func(t *testing.T) {
				input := []byte(tt.input)

				// The plain protocol closes the connection, once errAt
				// bytes were fed and not before.
				p, tr := strConnect(strNetstring.plain)
				p.setMaxLength(tt.maxLength)
				strFeed(p, input[:tt.errAt-1], size)
				if p.Err() != nil || !tr.Connected() {
					t.Fatalf("failed after %d bytes (Err %v), want after %d", tt.errAt-1, p.Err(), tt.errAt)
				}
				strFeed(p, input[tt.errAt-1:tt.errAt], size)
				checkNetstringError(t, p.Err(), tt.tooLong)
				if tr.Connected() {
					t.Error("still connected after a parse error, want LoseConnection")
				}
				if tr.Aborted() {
					t.Error("connection aborted, want CloseWithError (which flushes)")
				}
				if err := tr.CloseError(); err == nil || err != p.Err() {
					t.Errorf("CloseError() = %v, want Err() = %v", err, p.Err())
				}
				strFeed(p, input[tt.errAt:], size)
				if got := p.ev().strings; !slices.Equal(got, tt.want) {
					t.Errorf("received %q, want %q", got, tt.want)
				}

				// The hooked protocol hears of the error once, keeps the
				// connection open, and gets nothing after the error.
				h, htr := strConnect(strNetstring.hooked)
				h.setMaxLength(tt.maxLength)
				strFeed(h, input, size)
				strFeed(h, []byte("5:hello,"), size)
				if got := h.ev().parseErrs; len(got) != 1 || got[0] != h.Err() {
					t.Fatalf("NetstringParseFailed called with %v, want once with Err() = %v", got, h.Err())
				}
				checkNetstringError(t, h.ev().parseErrs[0], tt.tooLong)
				if !htr.Connected() {
					t.Error("the hooked protocol's connection was closed; its NetstringParseFailed does not close")
				}
				if got := h.ev().strings; !slices.Equal(got, tt.want) {
					t.Errorf("hooked: received %q, want %q", got, tt.want)
				}
				if got := h.bufferCap(); got != 0 {
					t.Errorf("buffer capacity %d after the error, want 0", got)
				}
			})
		}
	}
}

func checkNetstringError(t *testing.T, err error, tooLong bool) {
	t.Helper()
	var perr *protocol.NetstringParseError
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T), want a *NetstringParseError", err, err)
	}
	if perr.Reason == "" {
		t.Error("NetstringParseError.Reason is empty")
	}
	if !errors.Is(err, protocol.ErrNetstringParse) {
		t.Errorf("error %v does not match ErrNetstringParse", err)
	}
	if got := errors.Is(err, protocol.ErrLengthLimitExceeded); got != tooLong {
		t.Errorf("errors.Is(%v, ErrLengthLimitExceeded) = %v, want %v", err, got, tooLong)
	}
	if got, want := err.Error(), "protocol: invalid netstring: "+perr.Reason; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestNetstringErrorSizes pins the sizes in the reasons of the parse errors
// that have some.
func TestNetstringErrorSizes(t *testing.T) {
	tests := []struct {
		maxLength int
		input     string
		want      string
	}{
		{10, "11:hello world,", "length 11 over MaxLength 10"},
		{10, "100:", "length 100... has more digits than MaxLength 10"},
		{0, "5:hello!", "payload of 5 bytes followed by '!', not a comma"},
		{0, "5:hel", "payload of 5 bytes followed by 'x', not a comma"}, // completed below
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", tt.want, size), func(t *testing.T) {
				p, tr := strConnect(strNetstring.plain)
				p.setMaxLength(tt.maxLength)
				strFeed(p, []byte(tt.input), size)
				strFeed(p, []byte("loxyz"), size)
				var perr *protocol.NetstringParseError
				if !errors.As(tr.CloseError(), &perr) || perr.Reason != tt.want {
					t.Errorf("CloseError() = %v, want a *NetstringParseError with Reason %q", tr.CloseError(), tt.want)
				}
			})
		}
	}
}

// netstringSuper's NetstringParseFailed records, then calls the receiver's
// own.
type netstringSuper struct{ netPlain }

func (p *netstringSuper) NetstringParseFailed(err error) {
	p.rec.parseErrs = append(p.rec.parseErrs, err)
	p.NetstringReceiver.NetstringParseFailed(err)
}

// TestNetstringParseFailedSuper checks that an outer NetstringParseFailed can
// call the receiver's own to close the connection.
func TestNetstringParseFailedSuper(t *testing.T) {
	p, tr := strConnect(func() strProto { return &netstringSuper{} })
	strFeed(p, []byte("1:a,01:"), 0)
	if got := p.ev().parseErrs; len(got) != 1 {
		t.Errorf("NetstringParseFailed called %d times, want 1", len(got))
	}
	if tr.Connected() {
		t.Error("still connected, want closed by the receiver's NetstringParseFailed")
	}
	if err := tr.CloseError(); !errors.Is(err, protocol.ErrNetstringParse) || err != p.Err() {
		t.Errorf("CloseError() = %v, want Err() = %v", err, p.Err())
	}
	if got, want := p.ev().strings, []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

// TestNetstringZeroLength checks "0:," at every split, alone and between
// other netstrings.
func TestNetstringZeroLength(t *testing.T) {
	input := []byte("0:,0:,3:abc,0:,")
	want := []string{"", "", "abc", ""}
	for split := range len(input) + 1 {
		p, _ := strConnect(strNetstring.plain)
		strFeed(p, input[:split], 0)
		strFeed(p, input[split:], 0)
		if got := p.ev().strings; !slices.Equal(got, want) {
			t.Errorf("split at %d: received %q, want %q", split, got, want)
		}
		if err := p.Err(); err != nil {
			t.Errorf("split at %d: Err() = %v, want nil", split, err)
		}
	}
}
