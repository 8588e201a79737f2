package protocol_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/whirl-go/whirl/protocol"
)

// strRandomPieces splits data into pieces of random sizes drawn from seed,
// mostly small, sometimes up to the whole rest.
func strRandomPieces(data []byte, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	var pieces [][]byte
	for len(data) > 0 {
		n := 1 + rng.IntN(len(data))
		if rng.IntN(4) != 0 {
			n = 1 + rng.IntN(min(len(data), 8))
		}
		pieces = append(pieces, data[:n:n])
		data = data[n:]
	}
	return pieces
}

// strFeedChecked feeds the pieces to p as strFeed does, and fails t if the
// receiver's buffer ever grows past limit.
func strFeedChecked(t *testing.T, p strProto, pieces [][]byte, limit int) {
	t.Helper()
	for _, piece := range pieces {
		strFeed(p, piece, 0)
		if got := p.bufferCap(); got > limit {
			t.Fatalf("buffer capacity %d, more than MaxLength %d", got, limit)
		}
	}
}

// refIntN decodes data all at once, the simple way: the strings before the
// first prefix over limit, and that prefix (or -1).
func refIntN(data []byte, width, limit int) (strs []string, exceeded int64) {
	for len(data) >= width {
		var n uint64
		for _, b := range data[:width] {
			n = n<<8 | uint64(b)
		}
		if n > uint64(limit) {
			return strs, int64(n)
		}
		if uint64(len(data)-width) < n {
			break
		}
		strs = append(strs, string(data[width:width+int(n)]))
		data = data[width+int(n):]
	}
	return strs, -1
}

func FuzzIntNStringReceiver(f *testing.F) {
	f.Add([]byte("\x05hello\x00\x03abc"), uint8(0), uint16(0), uint64(1))
	f.Add([]byte("\x00\x05hello\x00\x00\x00\x01x"), uint8(1), uint16(0), uint64(2))
	f.Add([]byte("\x00\x00\x00\x05hello\x00\x00\x00\x00"), uint8(2), uint16(0), uint64(3))
	f.Add([]byte("\x00\x03abc\x00\x0bhello world"), uint8(1), uint16(10), uint64(4))
	f.Add([]byte("\xff\xff\xff\xffxyz"), uint8(2), uint16(0), uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8, maxLength uint16, seed uint64) {
		k := strIntNKinds[int(kind)%len(strIntNKinds)]
		limit := int(maxLength)
		if limit == 0 {
			limit = protocol.DefaultMaxStringLength
		}
		wantStrs, wantExceeded := refIntN(data, k.width, limit)

		p, tr := strConnect(k.hooked)
		p.setMaxLength(int(maxLength))
		strFeedChecked(t, p, strRandomPieces(data, seed), limit)

		if got := p.ev().strings; !slices.Equal(got, wantStrs) {
			t.Fatalf("received %q, want %q", got, wantStrs)
		}
		var wantLimits []int
		if wantExceeded >= 0 {
			wantLimits = []int{int(min(wantExceeded, math.MaxInt))}
		}
		if got := p.ev().limits; !slices.Equal(got, wantLimits) {
			t.Fatalf("LengthLimitExceeded called with %v, want %v", got, wantLimits)
		}
		if got, want := errors.Is(p.Err(), protocol.ErrLengthLimitExceeded), wantExceeded >= 0; got != want || (p.Err() == nil) == want {
			t.Fatalf("Err() = %v, want an error: %v", p.Err(), want)
		}
		if !tr.Connected() {
			t.Fatal("connection closed; the hooked protocol never closes it")
		}
	})
}

// TestRefIntN pins the reference decoder the fuzz target trusts.
func TestRefIntN(t *testing.T) {
	data := binary.BigEndian.AppendUint16(nil, 3)
	data = append(data, "abc\x00\x00\x00\x0bxx"...)
	strs, exceeded := refIntN(data, 2, 10)
	if want := []string{"abc", ""}; !slices.Equal(strs, want) || exceeded != 11 {
		t.Errorf("refIntN = %q, %d; want %q, 11", strs, exceeded, want)
	}
	strs, exceeded = refIntN([]byte("\x02ab\x05abc"), 1, 10)
	if want := []string{"ab"}; !slices.Equal(strs, want) || exceeded != -1 {
		t.Errorf("refIntN = %q, %d; want %q, -1", strs, exceeded, want)
	}
}
