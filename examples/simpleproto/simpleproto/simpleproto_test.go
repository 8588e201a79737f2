package simpleproto_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// collect is a PacketHandler that keeps copies of the bodies.
type collect struct{ bodies []string }

func (c *collect) PacketReceived(b []byte) error {
	c.bodies = append(c.bodies, string(b))
	return nil
}

func packets(bodies ...string) []byte {
	var b []byte
	for _, s := range bodies {
		b = simpleproto.AppendPacket(b, []byte(s))
	}
	return b
}

func header(magic, version uint16, n uint32) []byte {
	h := make([]byte, simpleproto.HeaderLen)
	binary.BigEndian.PutUint16(h, magic)
	binary.BigEndian.PutUint16(h[2:], version)
	binary.BigEndian.PutUint32(h[4:], n)
	return h
}

func TestAppendPacket(t *testing.T) {
	got := simpleproto.AppendPacket([]byte("x"), []byte("hi"))
	want := []byte{'x', 0x05, 0x22, 0x00, 0x01, 0, 0, 0, 2, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func TestDecoder(t *testing.T) {
	big := strings.Repeat("z", 5000)
	cases := []struct {
		name    string
		input   []byte
		max     int
		want    []string
		wantErr error
	}{
		{name: "one", input: packets("hello"), want: []string{"hello"}},
		{name: "several with empty", input: packets("a", "", "bc", big), want: []string{"a", "", "bc", big}},
		{name: "unfinished kept", input: append(packets("a"), packets("bcd")[:9]...), want: []string{"a"}},
		{name: "bad magic", input: append(packets("a"), header(1315, 1, 0)...), want: []string{"a"}, wantErr: simpleproto.ErrMagic},
		{name: "bad version", input: append(packets("a"), header(1314, 2, 0)...), want: []string{"a"}, wantErr: simpleproto.ErrVersion},
		{name: "too large", input: append(packets("abcd"), header(1314, 1, 5)...), max: 4, want: []string{"abcd"}, wantErr: simpleproto.ErrTooLarge},
		{name: "4 GiB announced", input: header(1314, 1, 1<<32-1), wantErr: simpleproto.ErrTooLarge},
	}
	for _, c := range cases {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", c.name, size), func(t *testing.T) {
				d := simpleproto.Decoder{MaxLength: c.max}
				var h collect
				var err error
				for _, piece := range transporttest.Chunks(c.input, size) {
					if err = d.Feed(piece, &h); err != nil {
						break
					}
				}
				if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
					t.Fatalf("error %v, want %v", err, c.wantErr)
				}
				if fmt.Sprint(h.bodies) != fmt.Sprint(c.want) && !(len(h.bodies) == 0 && len(c.want) == 0) {
					t.Fatalf("bodies %q, want %q", h.bodies, c.want)
				}
				if err != nil && d.Feed(packets("x"), &h) == nil {
					t.Fatal("Feed took input after an error")
				}
				if d.Buffered() > len(big)+simpleproto.HeaderLen {
					t.Fatalf("buffered %d bytes", d.Buffered())
				}
			})
		}
	}
}

func TestServer(t *testing.T) {
	input := packets("hello", "", strings.Repeat("w", 3000), "bye")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			p := (&simpleproto.Factory{}).BuildProtocol(nil)
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			for _, piece := range transporttest.Chunks(input, size) {
				p.DataReceived(piece)
			}
			if got, want := tr.Value(), append([]byte(simpleproto.Greeting), input...); !bytes.Equal(got, want) {
				t.Fatalf("wrote %q, want %q", got, want)
			}
			if tr.Disconnecting() {
				t.Fatal("closed")
			}
		})
	}
}

func TestServerBadInput(t *testing.T) {
	p := (&simpleproto.Factory{MaxLength: 10}).BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	p.DataReceived(append(packets("ok"), header(1314, 1, 11)...))
	if got, want := tr.Value(), append([]byte(simpleproto.Greeting), packets("ok")...); !bytes.Equal(got, want) {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	if !errors.Is(tr.CloseError(), simpleproto.ErrTooLarge) {
		t.Fatalf("closed with %v, want ErrTooLarge", tr.CloseError())
	}
}
