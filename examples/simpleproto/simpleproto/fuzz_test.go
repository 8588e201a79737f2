package simpleproto_test

import (
	"bytes"
	"testing"

	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
)

// FuzzDecoder feeds any input whole and cut at a point the fuzzer picks, and
// checks that both give the same packets and the same error, that re-encoding
// the packets gives back a prefix of the input, and that the decoder never
// holds more than one packet.
func FuzzDecoder(f *testing.F) {
	f.Add(packets("hello", "", "world"), 3)
	f.Add(append(packets("a"), header(1315, 1, 0)...), 9)
	f.Add(append(packets("a"), header(1314, 9, 0)...), 1)
	f.Add(header(1314, 1, 1<<31), 4)
	f.Fuzz(func(t *testing.T, input []byte, cut int) {
		const max = 64
		whole, werr := decode(input, len(input), max)
		if cut < 0 {
			cut = -cut
		}
		cut %= len(input) + 1
		split, serr := decode(input, cut, max)
		if (werr == nil) != (serr == nil) || (werr != nil && werr.Error() != serr.Error()) {
			t.Fatalf("errors differ: whole %v, cut at %d %v", werr, cut, serr)
		}
		if len(whole) != len(split) {
			t.Fatalf("whole gave %d packets, cut at %d %d", len(whole), cut, len(split))
		}
		var again []byte
		for i, b := range whole {
			if b != split[i] {
				t.Fatalf("packet %d differs", i)
			}
			if len(b) > max {
				t.Fatalf("a %d-byte body passed the %d limit", len(b), max)
			}
			again = simpleproto.AppendPacket(again, []byte(b))
		}
		if !bytes.HasPrefix(input, again) {
			t.Fatal("the packets are not a prefix of the input")
		}
	})
}

// decode feeds input in two pieces cut at cut.
func decode(input []byte, cut, max int) ([]string, error) {
	d := simpleproto.Decoder{MaxLength: max}
	var h collect
	for _, piece := range [][]byte{input[:cut], input[cut:]} {
		if err := d.Feed(piece, &h); err != nil {
			return h.bodies, err
		}
		if d.Buffered() > simpleproto.HeaderLen+max {
			panic("buffered past one packet")
		}
	}
	return h.bodies, nil
}
