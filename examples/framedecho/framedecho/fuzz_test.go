package framedecho_test

import (
	"bytes"
	"testing"

	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// FuzzFramedEcho feeds arbitrary input to the echo of each framing, with a
// small MaxLength, and checks that what comes back is a prefix of the input
// (a valid frame is echoed byte for byte, and every framing has one encoding
// per payload), the same however the input is split.
func FuzzFramedEcho(f *testing.F) {
	f.Add(uint8(framedecho.Int32), []byte("\x00\x00\x00\x02hi\x00\x00\x00\x00"))
	f.Add(uint8(framedecho.Int16), []byte("\x00\x03abc\x00\x20"))
	f.Add(uint8(framedecho.Int8), []byte("\x01a\x00\x05hello"))
	f.Add(uint8(framedecho.Netstring), []byte("5:hello,0:,3:ab"))
	f.Add(uint8(framedecho.Netstring), []byte("2:ok,05:x"))
	f.Fuzz(func(t *testing.T, fr uint8, in []byte) {
		framing := framedecho.Framing(fr%4 + 1)
		var first []byte
		for i, size := range transporttest.ChunkSizes {
			c := connect(t, &framedecho.Factory{Framing: framing, MaxLength: 16})
			c.send(string(in), size)
			out := c.tr.Value()
			if !bytes.HasPrefix(in, out) {
				t.Fatalf("%v echo of %q wrote %q, not a prefix of the input", framing, in, out)
			}
			if i == 0 {
				first = out
			} else if !bytes.Equal(out, first) {
				t.Fatalf("%v echo of %q: chunk size %d wrote %q, chunk size %d wrote %q",
					framing, in, size, out, transporttest.ChunkSizes[0], first)
			}
		}
	})
}
