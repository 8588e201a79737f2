package framedecho_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

var framings = []framedecho.Framing{framedecho.Int32, framedecho.Int16, framedecho.Int8, framedecho.Netstring}

// frame encodes payload in framing f, written here from the format's
// definition rather than with the receivers under test.
func frame(f framedecho.Framing, payload string) string {
	switch f {
	case framedecho.Int32:
		return string(binary.BigEndian.AppendUint32(nil, uint32(len(payload)))) + payload
	case framedecho.Int16:
		return string(binary.BigEndian.AppendUint16(nil, uint16(len(payload)))) + payload
	case framedecho.Int8:
		return string([]byte{byte(len(payload))}) + payload
	default:
		return strconv.Itoa(len(payload)) + ":" + payload + ","
	}
}

// header returns the start of a frame announcing n bytes, without payload.
func header(f framedecho.Framing, n int) string {
	switch f {
	case framedecho.Int32:
		return string(binary.BigEndian.AppendUint32(nil, uint32(n)))
	case framedecho.Int16:
		return string(binary.BigEndian.AppendUint16(nil, uint16(n)))
	case framedecho.Int8:
		return string([]byte{byte(n)})
	default:
		return strconv.Itoa(n) + ":"
	}
}

// largest is the longest payload framing f can carry within max bytes.
func largest(f framedecho.Framing, max int) int {
	switch f {
	case framedecho.Int8:
		return min(max, 255)
	case framedecho.Int16:
		return min(max, 65535)
	}
	return max
}

// conn is an echo protocol of a factory on an in-memory transport.
type conn struct {
	p  protocol.Protocol
	tr *transporttest.Transport
}

func connect(t testing.TB, f *framedecho.Factory) conn {
	t.Helper()
	tr := transporttest.New()
	p := f.BuildProtocol(tr.RemoteAddr())
	if p == nil {
		t.Fatalf("BuildProtocol with framing %v returned nil", f.Framing)
	}
	protocol.MakeConnection(p, tr)
	return conn{p, tr}
}

func (c conn) send(in string, size int) {
	for _, piece := range transporttest.Chunks([]byte(in), size) {
		c.p.DataReceived(piece)
	}
}

// errOf returns the Err of the receiver behind p.
func errOf(p protocol.Protocol) error {
	return p.(interface{ Err() error }).Err()
}

func TestEcho(t *testing.T) {
	for _, fr := range framings {
		payloads := []string{"hello", "", "x", strings.Repeat("0123456789", 25) + "abcde", "", "\x00\xff,:\r\n",
			strings.Repeat("z", largest(fr, 70000))}
		var in strings.Builder
		for _, p := range payloads {
			in.WriteString(frame(fr, p))
		}
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%v/chunk=%d", fr, size), func(t *testing.T) {
				c := connect(t, &framedecho.Factory{Framing: fr})
				c.send(in.String(), size)
				if got := string(c.tr.Value()); got != in.String() {
					t.Errorf("echoed %d bytes, want the %d bytes sent back", len(got), in.Len())
				}
				if !c.tr.Connected() {
					t.Error("closed, want connected")
				}
			})
		}
	}
}

// TestPartialFrame checks nothing is echoed before a frame is complete.
func TestPartialFrame(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.String(), func(t *testing.T) {
			c := connect(t, &framedecho.Factory{Framing: fr})
			whole := frame(fr, "abc")
			c.send(whole[:len(whole)-1], 1)
			if got := c.tr.Value(); len(got) != 0 {
				t.Fatalf("echoed %q before the frame was complete", got)
			}
			c.send(whole[len(whole)-1:], 0)
			if got := string(c.tr.Value()); got != whole {
				t.Errorf("echoed %q, want %q", got, whole)
			}
		})
	}
}

func TestOversize(t *testing.T) {
	for _, fr := range framings {
		for _, tt := range []struct {
			name      string
			maxLength int
			limit     int // the effective limit
		}{
			{"MaxLength 5", 5, 5},
			{"default", 0, protocol.DefaultMaxStringLength},
		} {
			limit := largest(fr, tt.limit)
			if limit == largest(fr, limit+1) {
				continue // the prefix cannot announce more than the limit
			}
			for _, size := range transporttest.ChunkSizes {
				t.Run(fmt.Sprintf("%v/%s/chunk=%d", fr, tt.name, size), func(t *testing.T) {
					c := connect(t, &framedecho.Factory{Framing: fr, MaxLength: tt.maxLength})
					ok := frame(fr, strings.Repeat("a", limit))
					c.send(ok+header(fr, limit+1)+"more data", size)
					if got := string(c.tr.Value()); got != ok {
						t.Errorf("echoed %d bytes, want the %d of the frame at the limit", len(got), len(ok))
					}
					if c.tr.Connected() {
						t.Error("connected after an oversize frame, want closed")
					}
					if c.tr.Aborted() {
						t.Error("aborted, want a clean close")
					}
					if err := errOf(c.p); !errors.Is(err, protocol.ErrLengthLimitExceeded) {
						t.Errorf("Err() = %v, want one matching ErrLengthLimitExceeded", err)
					}
				})
			}
		}
	}
}

func TestMalformedNetstring(t *testing.T) {
	tests := []struct{ name, in string }{
		{"letter", "abc"},
		{"no comma", "5:hello!"},
		{"leading zero", "05:hello,"},
		{"no length", ":hello,"},
		{"letter in length", "1x:a,"},
		{"space", " 1:a,"},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				c := connect(t, &framedecho.Factory{Framing: framedecho.Netstring})
				c.send("2:ok,"+tt.in+"3:abc,", size)
				if got, want := string(c.tr.Value()), "2:ok,"; got != want {
					t.Errorf("echoed %q, want %q", got, want)
				}
				if c.tr.Connected() {
					t.Error("connected after a malformed netstring, want closed")
				}
				if err := errOf(c.p); !errors.Is(err, protocol.ErrNetstringParse) {
					t.Errorf("Err() = %v, want one matching ErrNetstringParse", err)
				}
			})
		}
	}
}

func TestAfterClose(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.String(), func(t *testing.T) {
			c := connect(t, &framedecho.Factory{Framing: fr})
			c.tr.LoseConnection()
			c.send(frame(fr, "late"), 0) // must not panic
			if got := c.tr.Value(); len(got) != 0 {
				t.Errorf("wrote %q after close, want nothing", got)
			}
			c.p.ConnectionLost(transport.ErrConnectionDone)
		})
	}
}

// TestOwnProducer checks each echo registers its transport as the streaming
// producer of its output, which keeps a client that does not read bounded.
func TestOwnProducer(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.String(), func(t *testing.T) {
			c := connect(t, &framedecho.Factory{Framing: fr})
			p, streaming := c.tr.Producer()
			if p != transport.Producer(c.tr) || !streaming {
				t.Errorf("producer %v (streaming %v), want the transport itself, streaming", p, streaming)
			}
		})
	}
}

func TestBuildProtocol(t *testing.T) {
	tests := []struct {
		framing framedecho.Framing
		want    string
	}{
		{framedecho.Int32, "*framedecho.Int32Echo"},
		{framedecho.Int16, "*framedecho.Int16Echo"},
		{framedecho.Int8, "*framedecho.Int8Echo"},
		{framedecho.Netstring, "*framedecho.NetstringEcho"},
		{0, "<nil>"},
		{framedecho.Netstring + 1, "<nil>"},
	}
	for _, tt := range tests {
		f := framedecho.Factory{Framing: tt.framing, MaxLength: 7}
		p := f.BuildProtocol(nil)
		if got := fmt.Sprintf("%T", p); got != tt.want && !(p == nil && tt.want == "<nil>") {
			t.Errorf("Framing %d: BuildProtocol = %s, want %s", tt.framing, got, tt.want)
		}
		if p != nil && p == f.BuildProtocol(nil) {
			t.Errorf("Framing %d: BuildProtocol returned the same protocol twice", tt.framing)
		}
	}
}

func TestParseFraming(t *testing.T) {
	tests := []struct {
		name    string
		want    framedecho.Framing
		wantErr error
	}{
		{"int32", framedecho.Int32, nil},
		{"int16", framedecho.Int16, nil},
		{"int8", framedecho.Int8, nil},
		{"netstring", framedecho.Netstring, nil},
		{"", 0, framedecho.ErrFraming},
		{"INT32", 0, framedecho.ErrFraming},
		{"int64", 0, framedecho.ErrFraming},
	}
	for _, tt := range tests {
		got, err := framedecho.ParseFraming(tt.name)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("ParseFraming(%q) = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.name {
			t.Errorf("ParseFraming(%q).String() = %q, want %q", tt.name, got.String(), tt.name)
		}
	}
	if got := framedecho.Framing(0).String(); got != "" {
		t.Errorf("Framing(0).String() = %q, want %q", got, "")
	}
}

func TestFactoryFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     framedecho.Factory
		parseErr bool
		checkErr error
	}{
		{"framing", []string{"--framing", "netstring"},
			framedecho.Factory{Framing: framedecho.Netstring, MaxLength: protocol.DefaultMaxStringLength}, false, nil},
		{"both", []string{"--framing=int8", "--max-length=10"},
			framedecho.Factory{Framing: framedecho.Int8, MaxLength: 10}, false, nil},
		{"no framing", nil,
			framedecho.Factory{MaxLength: protocol.DefaultMaxStringLength}, false, framedecho.ErrNoFraming},
		{"bad framing", []string{"--framing", "int64"}, framedecho.Factory{}, true, nil},
		{"negative max", []string{"--framing", "int32", "--max-length", "-3"},
			framedecho.Factory{Framing: framedecho.Int32, MaxLength: -3}, false, framedecho.ErrMaxLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("framedecho", flag.ContinueOnError)
			var out bytes.Buffer
			fs.SetOutput(&out)
			var f framedecho.Factory
			f.RegisterFlags(fs)
			err := fs.Parse(tt.args)
			if tt.parseErr {
				if err == nil || !strings.Contains(err.Error(), "unknown framing") {
					t.Errorf("Parse(%q) = %v, want an unknown framing error", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if f.Framing != tt.want.Framing || f.MaxLength != tt.want.MaxLength {
				t.Errorf("flags gave Framing %v MaxLength %d, want %v %d", f.Framing, f.MaxLength, tt.want.Framing, tt.want.MaxLength)
			}
			if err := f.Check(); !errors.Is(err, tt.checkErr) {
				t.Errorf("Check() = %v, want %v", err, tt.checkErr)
			}
		})
	}
}

func Example() {
	tr := transporttest.New()
	f := framedecho.Factory{Framing: framedecho.Netstring}
	p := f.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("5:hello,0:,3:ab"))
	fmt.Printf("%q\n", tr.Value())
	p.DataReceived([]byte("c,"))
	fmt.Printf("%q\n", tr.Value())
	// Output:
	// "5:hello,0:,"
	// "5:hello,0:,3:abc,"
}
