package protocol_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// strEvents records what a string receiver called on the protocol around it.
type strEvents struct {
	tr        *transporttest.Transport
	strings   []string
	limits    []int   // LengthLimitExceeded arguments (hooked kinds)
	parseErrs []error // NetstringParseFailed arguments (hooked kind)
	onString  func(s string)

	countOnly bool // count strings and bytes instead of keeping them
	count     int
	bytes     int
	nils      int // strings delivered as a nil slice
}

func (e *strEvents) received(s []byte) {
	if s == nil {
		e.nils++
	}
	if e.countOnly {
		e.count++
		e.bytes += len(s)
		return
	}
	e.strings = append(e.strings, string(s))
	if e.onString != nil {
		e.onString(string(s))
	}
}

// strProto is what the tests need of a user protocol built on a string
// receiver.
type strProto interface {
	protocol.Protocol
	SendString(s []byte) error
	Err() error
	ev() *strEvents
	setMaxLength(n int)
	bufferCap() int
}

// The user protocols under test: "plain" ones define only StringReceived,
// "hooked" ones also replace the receiver's error hook.

type int8Plain struct {
	protocol.Int8StringReceiver
	rec strEvents
}

func (p *int8Plain) StringReceived(s []byte) { p.rec.received(s) }
func (p *int8Plain) ev() *strEvents          { return &p.rec }
func (p *int8Plain) setMaxLength(n int)      { p.MaxLength = n }
func (p *int8Plain) bufferCap() int          { return protocol.StringBufferCap(&p.Int8StringReceiver) }

type int8Hooked struct{ int8Plain }

func (p *int8Hooked) LengthLimitExceeded(n int) { p.rec.limits = append(p.rec.limits, n) }

type int16Plain struct {
	protocol.Int16StringReceiver
	rec strEvents
}

func (p *int16Plain) StringReceived(s []byte) { p.rec.received(s) }
func (p *int16Plain) ev() *strEvents          { return &p.rec }
func (p *int16Plain) setMaxLength(n int)      { p.MaxLength = n }
func (p *int16Plain) bufferCap() int          { return protocol.StringBufferCap(&p.Int16StringReceiver) }

type int16Hooked struct{ int16Plain }

func (p *int16Hooked) LengthLimitExceeded(n int) { p.rec.limits = append(p.rec.limits, n) }

type int32Plain struct {
	protocol.Int32StringReceiver
	rec strEvents
}

func (p *int32Plain) StringReceived(s []byte) { p.rec.received(s) }
func (p *int32Plain) ev() *strEvents          { return &p.rec }
func (p *int32Plain) setMaxLength(n int)      { p.MaxLength = n }
func (p *int32Plain) bufferCap() int          { return protocol.StringBufferCap(&p.Int32StringReceiver) }

type int32Hooked struct{ int32Plain }

func (p *int32Hooked) LengthLimitExceeded(n int) { p.rec.limits = append(p.rec.limits, n) }

type netPlain struct {
	protocol.NetstringReceiver
	rec strEvents
}

func (p *netPlain) StringReceived(s []byte) { p.rec.received(s) }
func (p *netPlain) ev() *strEvents          { return &p.rec }
func (p *netPlain) setMaxLength(n int)      { p.MaxLength = n }
func (p *netPlain) bufferCap() int          { return protocol.StringBufferCap(&p.NetstringReceiver) }

type netHooked struct{ netPlain }

func (p *netHooked) NetstringParseFailed(err error) {
	p.rec.parseErrs = append(p.rec.parseErrs, err)
}

// strKind is one of the four receivers, with a framing written
// independently of the package, to check it byte for byte.
type strKind struct {
	name    string
	width   int // prefix bytes; 0 for netstrings
	maxSend int // longest string the framing can carry
	encode  func(s string) string
	plain   func() strProto
	hooked  func() strProto
	bare    func() protocol.Protocol // the receiver alone, with no StringReceived
}

func strPrefix(width int, n uint64) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	return string(b[4-width:])
}

var (
	strInt8 = strKind{
		name: "Int8", width: 1, maxSend: 1<<8 - 1,
		encode: func(s string) string { return strPrefix(1, uint64(len(s))) + s },
		plain:  func() strProto { return &int8Plain{} },
		hooked: func() strProto { return &int8Hooked{} },
		bare:   func() protocol.Protocol { return &protocol.Int8StringReceiver{} },
	}
	strInt16 = strKind{
		name: "Int16", width: 2, maxSend: 1<<16 - 1,
		encode: func(s string) string { return strPrefix(2, uint64(len(s))) + s },
		plain:  func() strProto { return &int16Plain{} },
		hooked: func() strProto { return &int16Hooked{} },
		bare:   func() protocol.Protocol { return &protocol.Int16StringReceiver{} },
	}
	strInt32 = strKind{
		name: "Int32", width: 4, maxSend: 1<<31 - 1,
		encode: func(s string) string { return strPrefix(4, uint64(len(s))) + s },
		plain:  func() strProto { return &int32Plain{} },
		hooked: func() strProto { return &int32Hooked{} },
		bare:   func() protocol.Protocol { return &protocol.Int32StringReceiver{} },
	}
	strNetstring = strKind{
		name: "Netstring", maxSend: 1<<31 - 1,
		encode: func(s string) string { return strconv.Itoa(len(s)) + ":" + s + "," },
		plain:  func() strProto { return &netPlain{} },
		hooked: func() strProto { return &netHooked{} },
		bare:   func() protocol.Protocol { return &protocol.NetstringReceiver{} },
	}
	strIntNKinds = []strKind{strInt8, strInt16, strInt32}
	strKinds     = []strKind{strInt8, strInt16, strInt32, strNetstring}
)

// strConnect makes a protocol with newP and connects it to a new transport.
func strConnect(newP func() strProto) (strProto, *transporttest.Transport) {
	p := newP()
	tr := transporttest.New()
	p.ev().tr = tr
	protocol.MakeConnection(p, tr)
	return p, tr
}

// strFeed gives input to p in pieces of size bytes (transporttest.Chunks). Each
// piece is a fresh copy, overwritten once DataReceived returned, so a
// receiver that keeps a piece past the call delivers garbage.
func strFeed(p protocol.Protocol, input []byte, size int) {
	for _, piece := range transporttest.Chunks(input, size) {
		buf := append([]byte(nil), piece...)
		p.DataReceived(buf)
		for i := range buf {
			buf[i] = '#'
		}
	}
}

func strEncode(k strKind, strs []string) []byte {
	var b strings.Builder
	for _, s := range strs {
		b.WriteString(k.encode(s))
	}
	return []byte(b.String())
}

func TestIntNWire(t *testing.T) {
	tests := []struct {
		kind strKind
		s    string
		want string
	}{
		{strInt8, "hello", "\x05hello"},
		{strInt8, "", "\x00"},
		{strInt8, strings.Repeat("a", 255), "\xff" + strings.Repeat("a", 255)},
		{strInt16, "hello", "\x00\x05hello"},
		{strInt16, "", "\x00\x00"},
		{strInt16, strings.Repeat("b", 300), "\x01\x2c" + strings.Repeat("b", 300)},
		{strInt32, "hello", "\x00\x00\x00\x05hello"},
		{strInt32, "", "\x00\x00\x00\x00"},
		{strInt32, strings.Repeat("c", 70000), "\x00\x01\x11\x70" + strings.Repeat("c", 70000)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.kind.name, len(tt.s)), func(t *testing.T) {
			p, tr := strConnect(tt.kind.plain)
			if err := p.SendString([]byte(tt.s)); err != nil {
				t.Fatalf("SendString() = %v, want nil", err)
			}
			if got := string(tr.Value()); got != tt.want {
				t.Errorf("SendString(%.20q...) wrote %.30q, want %.30q", tt.s, got, tt.want)
			}
			// And the same bytes decode back.
			q, _ := strConnect(tt.kind.plain)
			q.setMaxLength(100000)
			for _, size := range transporttest.ChunkSizes {
				q.ev().strings = nil
				strFeed(q, []byte(tt.want), size)
				if got := q.ev().strings; len(got) != 1 || got[0] != tt.s {
					t.Errorf("chunks of %d: received %d strings, want exactly %.20q...", size, len(got), tt.s)
				}
			}
		})
	}
}

func TestStringReceiversReceive(t *testing.T) {
	tests := []struct {
		name      string
		maxLength int
		strs      []string
	}{
		{"one", 0, []string{"hello"}},
		{"empty", 0, []string{""}},
		{"empties", 0, []string{"", "", "a", ""}},
		{"several", 0, []string{"abc", "defgh", "", "i", "jk"}},
		{"framing bytes inside", 0, []string{"5:hello,", "\x00\x05", ",:,", "\x00\x00\x00\x00", "0:,"}},
		{"exactly MaxLength", 10, []string{"0123456789", "", "x", "9876543210"}},
		{"255 bytes", 0, []string{strings.Repeat("\xff", 255), "z"}},
		{"exactly the default MaxLength", 0, []string{strings.Repeat("d", protocol.DefaultMaxStringLength), "after"}},
	}
	for _, k := range strKinds {
		for _, tt := range tests {
			if slices.ContainsFunc(tt.strs, func(s string) bool { return len(s) > k.maxSend }) {
				continue
			}
			for _, size := range transporttest.ChunkSizes {
				t.Run(fmt.Sprintf("%s/%s/chunks of %d", k.name, tt.name, size), func(t *testing.T) {
					p, tr := strConnect(k.plain)
					p.setMaxLength(tt.maxLength)
					strFeed(p, strEncode(k, tt.strs), size)
					if got := p.ev().strings; !slices.Equal(got, tt.strs) {
						t.Errorf("received %.40q, want %.40q", got, tt.strs)
					}
					if err := p.Err(); err != nil {
						t.Errorf("Err() = %v, want nil", err)
					}
					if n := p.ev().nils; n != 0 {
						t.Errorf("%d strings delivered as nil, want empty non-nil slices", n)
					}
					if !tr.Connected() {
						t.Error("connection closed, want open")
					}
					if got, limit := p.bufferCap(), max(tt.maxLength, 0); limit > 0 && got > limit {
						t.Errorf("buffer capacity %d, more than MaxLength %d", got, limit)
					}
				})
			}
		}
	}
}

// TestStringReceiversNoCopy checks that strings that arrive whole in one
// chunk are never copied into the receiver's buffer, and that a buffer grown
// for a long string is dropped once it was delivered.
func TestStringReceiversNoCopy(t *testing.T) {
	for _, k := range strKinds {
		t.Run(k.name, func(t *testing.T) {
			p, _ := strConnect(k.plain)
			strFeed(p, strEncode(k, []string{"abc", "", "defg"}), 0)
			if got := p.bufferCap(); got != 0 {
				t.Errorf("after whole strings: buffer capacity %d, want 0", got)
			}
			long := strings.Repeat("L", min(k.maxSend, 70000))
			strFeed(p, strEncode(k, []string{long, "x"}), len(long)/2)
			if got, want := len(p.ev().strings), 5; got != want {
				t.Fatalf("received %d strings, want %d", got, want)
			}
			if got := p.ev().strings[3]; got != long {
				t.Errorf("long string: received %d bytes, want %d", len(got), len(long))
			}
			if len(long) > 64<<10 {
				if got := p.bufferCap(); got != 0 {
					t.Errorf("after a %d-byte string: buffer capacity %d, want 0 (dropped)", len(long), got)
				}
			}
		})
	}
}

func TestIntNLengthLimit(t *testing.T) {
	tests := []struct {
		name      string
		kind      strKind
		maxLength int
		announced uint64
	}{
		{"Int8 MaxLength+1", strInt8, 10, 11},
		{"Int8 255 over 254", strInt8, 254, 255},
		{"Int16 MaxLength+1", strInt16, 10, 11},
		{"Int16 65535 over 1000", strInt16, 1000, 65535},
		{"Int32 MaxLength+1", strInt32, 10, 11},
		{"Int32 default MaxLength+1", strInt32, 0, protocol.DefaultMaxStringLength + 1},
		{"Int32 largest prefix", strInt32, 0, 1<<32 - 1},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", tt.name, size), func(t *testing.T) {
				before := strEncode(tt.kind, []string{"abc", ""})
				prefix := strPrefix(tt.kind.width, tt.announced)
				prefixEnd := len(before) + len(prefix)
				input := slices.Concat(before, []byte(prefix), bytes.Repeat([]byte("x"), 20), strEncode(tt.kind, []string{"later"}))

				// The hooked protocol: LengthLimitExceeded fires once, in
				// the piece that completes the prefix, and nothing is
				// delivered after it.
				p, tr := strConnect(tt.kind.hooked)
				p.setMaxLength(tt.maxLength)
				off := 0
				for _, piece := range transporttest.Chunks(input, size) {
					fired := len(p.ev().limits)
					p.DataReceived(piece)
					if fired == 0 && len(p.ev().limits) > 0 && (prefixEnd <= off || prefixEnd > off+len(piece)) {
						t.Errorf("LengthLimitExceeded fired in the piece at [%d, %d), want the one holding byte %d (the end of the prefix)",
							off, off+len(piece), prefixEnd-1)
					}
					off += len(piece)
				}
				if got, want := p.ev().limits, []int{int(min(tt.announced, math.MaxInt))}; !slices.Equal(got, want) {
					t.Errorf("LengthLimitExceeded called with %v, want %v", got, want)
				}
				if got, want := p.ev().strings, []string{"abc", ""}; !slices.Equal(got, want) {
					t.Errorf("received %q, want %q", got, want)
				}
				if !errors.Is(p.Err(), protocol.ErrLengthLimitExceeded) {
					t.Errorf("Err() = %v, want %v", p.Err(), protocol.ErrLengthLimitExceeded)
				}
				if !tr.Connected() {
					t.Error("the hooked protocol's connection was closed; its LengthLimitExceeded does not close")
				}
				strFeed(p, strEncode(tt.kind, []string{"more"}), size)
				if len(p.ev().strings) != 2 || len(p.ev().limits) != 1 {
					t.Errorf("after the limit: strings %q, limits %v; want nothing more", p.ev().strings, p.ev().limits)
				}
				if got := p.bufferCap(); got != 0 {
					t.Errorf("buffer capacity %d after the limit, want 0", got)
				}

				// The plain protocol: the default closes the connection,
				// given only the bytes up to the end of the prefix.
				q, qtr := strConnect(tt.kind.plain)
				q.setMaxLength(tt.maxLength)
				strFeed(q, input[:prefixEnd-1], size)
				if !qtr.Connected() || q.Err() != nil {
					t.Fatalf("closed (Err %v) before the prefix was complete", q.Err())
				}
				strFeed(q, input[prefixEnd-1:prefixEnd], size)
				if qtr.Connected() {
					t.Error("still connected after an oversize prefix, want LoseConnection")
				}
				if qtr.Aborted() {
					t.Error("connection aborted, want CloseWithError (which flushes)")
				}
				if err := qtr.CloseError(); err == nil || err != q.Err() {
					t.Errorf("CloseError() = %v, want Err() = %v", err, q.Err())
				}
				limit := tt.maxLength
				if limit <= 0 {
					limit = protocol.DefaultMaxStringLength
				}
				if want := fmt.Sprintf("protocol: string length over MaxLength: %sStringReceiver prefix announces %d bytes, MaxLength is %d",
					tt.kind.name, tt.announced, limit); q.Err() == nil || q.Err().Error() != want {
					t.Errorf("Err() = %v, want %q", q.Err(), want)
				}
				if !errors.Is(q.Err(), protocol.ErrLengthLimitExceeded) {
					t.Errorf("Err() = %v, want %v", q.Err(), protocol.ErrLengthLimitExceeded)
				}
				if got, want := q.ev().strings, []string{"abc", ""}; !slices.Equal(got, want) {
					t.Errorf("received %q, want %q", got, want)
				}
			})
		}
	}
}

// int16Super's LengthLimitExceeded records, then calls the receiver's own.
type int16Super struct{ int16Plain }

func (p *int16Super) LengthLimitExceeded(n int) {
	p.rec.limits = append(p.rec.limits, n)
	p.Int16StringReceiver.LengthLimitExceeded(n)
}

// TestIntNLengthLimitSuper checks that an outer LengthLimitExceeded can call
// the receiver's own to close the connection.
func TestIntNLengthLimitSuper(t *testing.T) {
	p, tr := strConnect(func() strProto { return &int16Super{} })
	p.setMaxLength(4)
	strFeed(p, []byte("\x00\x05"), 0)
	if got, want := p.ev().limits, []int{5}; !slices.Equal(got, want) {
		t.Errorf("limits %v, want %v", got, want)
	}
	if tr.Connected() {
		t.Error("still connected, want closed by the receiver's LengthLimitExceeded")
	}
	if err := tr.CloseError(); !errors.Is(err, protocol.ErrLengthLimitExceeded) || err != p.Err() {
		t.Errorf("CloseError() = %v, want Err() = %v", err, p.Err())
	}
}

func TestIntNSendStringTooLong(t *testing.T) {
	tests := []struct {
		kind    strKind
		n       int
		wantErr bool
	}{
		{strInt8, 255, false},
		{strInt8, 256, true},
		{strInt8, 1000, true},
		{strInt16, 65535, false},
		{strInt16, 65536, true},
		{strInt32, 65536, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.kind.name, tt.n), func(t *testing.T) {
			p, tr := strConnect(tt.kind.plain)
			s := bytes.Repeat([]byte("s"), tt.n)
			err := p.SendString(s)
			if tt.wantErr {
				if !errors.Is(err, protocol.ErrStringTooLong) {
					t.Errorf("SendString(%d bytes) = %v, want %v", tt.n, err, protocol.ErrStringTooLong)
				}
				if got := tr.Value(); len(got) != 0 {
					t.Errorf("wrote %d bytes, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("SendString(%d bytes) = %v, want nil", tt.n, err)
			}
			if got, want := string(tr.Value()), tt.kind.encode(string(s)); got != want {
				t.Errorf("wrote %d bytes starting %q, want %d starting %q", len(got), got[:4], len(want), want[:4])
			}
		})
	}
}

func TestStringReceiversRoundTrip(t *testing.T) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	for _, k := range strKinds {
		strs := []string{"", "hello", string(allBytes[:min(len(allBytes), k.maxSend)]), ",:\x00\r\n", strings.Repeat("m", min(k.maxSend, 1000))}
		if k.maxSend < 1<<20 {
			strs = append(strs, strings.Repeat("M", k.maxSend)) // the longest the prefix allows
		}
		sender, out := strConnect(k.plain)
		for _, s := range strs {
			if err := sender.SendString([]byte(s)); err != nil {
				t.Fatalf("%s: SendString(%d bytes) = %v", k.name, len(s), err)
			}
		}
		wire := out.Value()
		if want := strEncode(k, strs); !bytes.Equal(wire, want) {
			t.Errorf("%s: SendString wrote %d bytes, not the %d expected", k.name, len(wire), len(want))
		}
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", k.name, size), func(t *testing.T) {
				p, _ := strConnect(k.plain)
				p.setMaxLength(1 << 17)
				strFeed(p, wire, size)
				if got := p.ev().strings; !slices.Equal(got, strs) {
					t.Errorf("received %d strings %.30q, want %d %.30q", len(got), got, len(strs), strs)
				}
			})
		}
	}
}

func TestStringReceiversStopWhenDisconnecting(t *testing.T) {
	for _, k := range strKinds {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", k.name, size), func(t *testing.T) {
				p, tr := strConnect(k.plain)
				p.ev().onString = func(s string) {
					if s == "quit" {
						tr.LoseConnection()
					}
				}
				strFeed(p, strEncode(k, []string{"a", "quit", "b", "", "c"}), size)
				strFeed(p, strEncode(k, []string{"d"}), size)
				if got, want := p.ev().strings, []string{"a", "quit"}; !slices.Equal(got, want) {
					t.Errorf("received %q, want %q", got, want)
				}
				if err := p.Err(); err != nil {
					t.Errorf("Err() = %v, want nil", err)
				}
			})
		}
		t.Run(k.name+"/closing string completed by a piece holding more", func(t *testing.T) {
			p, tr := strConnect(k.plain)
			p.ev().onString = func(s string) {
				if s == "quit" {
					tr.LoseConnection()
				}
			}
			first := strEncode(k, []string{"a", "quit"})
			cut := len(first) - 2
			strFeed(p, first[:cut], 0)
			strFeed(p, append(first[cut:], strEncode(k, []string{"b", "c"})...), 0)
			if got, want := p.ev().strings, []string{"a", "quit"}; !slices.Equal(got, want) {
				t.Errorf("received %q, want %q", got, want)
			}
		})
		t.Run(k.name+"/closed before any data", func(t *testing.T) {
			p, tr := strConnect(k.plain)
			tr.LoseConnection()
			strFeed(p, strEncode(k, []string{"a"}), 0)
			if got := p.ev().strings; len(got) != 0 {
				t.Errorf("received %q after LoseConnection, want nothing", got)
			}
		})
	}
}

// TestStringReceiversMaxLengthPerString checks that MaxLength is read for
// each string: StringReceived may lower it for the next one.
func TestStringReceiversMaxLengthPerString(t *testing.T) {
	for _, k := range strKinds {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", k.name, size), func(t *testing.T) {
				p, tr := strConnect(k.plain)
				p.ev().onString = func(string) { p.setMaxLength(3) }
				strFeed(p, strEncode(k, []string{"first", "abc", "abcd", "x"}), size)
				if got, want := p.ev().strings, []string{"first", "abc"}; !slices.Equal(got, want) {
					t.Errorf("received %q, want %q", got, want)
				}
				if !errors.Is(p.Err(), protocol.ErrLengthLimitExceeded) {
					t.Errorf("Err() = %v, want %v", p.Err(), protocol.ErrLengthLimitExceeded)
				}
				if tr.Connected() {
					t.Error("still connected, want closed")
				}
			})
		}
	}
}

func TestStringReceiversSendAfterClose(t *testing.T) {
	for _, k := range strKinds {
		t.Run(k.name, func(t *testing.T) {
			p, tr := strConnect(k.plain)
			tr.LoseConnection()
			if err := p.SendString([]byte("late")); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("SendString() after LoseConnection = %v, want %v", err, transport.ErrClosed)
			}
		})
	}
}

// TestStringReceiversConcurrentSend sends from several goroutines at once
// (run it with -race): every string arrives whole.
func TestStringReceiversConcurrentSend(t *testing.T) {
	const goroutines, sends = 8, 200
	for _, k := range strKinds {
		t.Run(k.name, func(t *testing.T) {
			sender, out := strConnect(k.plain)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range sends {
						if err := sender.SendString(fmt.Appendf(nil, "g%d-%d", g, i)); err != nil {
							t.Errorf("SendString() = %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			p, _ := strConnect(k.plain)
			strFeed(p, out.Value(), 0)
			got := p.ev().strings
			if len(got) != goroutines*sends {
				t.Fatalf("received %d strings, want %d", len(got), goroutines*sends)
			}
			slices.Sort(got)
			var want []string
			for g := range goroutines {
				for i := range sends {
					want = append(want, fmt.Sprintf("g%d-%d", g, i))
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Error("the received strings are not the ones sent")
			}
		})
	}
}

// strPanicOf feeds data to p and returns what it panicked with.
func strPanicOf(p protocol.Protocol, data []byte) (v any) {
	defer func() { v = recover() }()
	p.DataReceived(data)
	return nil
}

// TestStringReceiversNotConnected checks the panic of a receiver fed data
// without MakeConnection. A protocol without StringReceived is refused by
// MakeConnection instead (see TestMakeConnectionRefusesMissingCallback).
func TestStringReceiversNotConnected(t *testing.T) {
	for _, k := range strKinds {
		t.Run(k.name, func(t *testing.T) {
			p := k.plain()
			v := strPanicOf(p, strEncode(k, []string{"a"}))
			if err, ok := v.(error); !ok || !errors.Is(err, protocol.ErrNoStringReceived) {
				t.Errorf("DataReceived panicked with %v, want an error matching %v", v, protocol.ErrNoStringReceived)
			}
		})
	}
}
