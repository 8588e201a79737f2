package protocol_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// FuzzReceiversPause feeds random input in random pieces to each receiver
// that pauses itself after the items that pauses picks, and resumes between
// pieces as resumes picks (then at the end, until nothing is held): what is
// delivered, in order, and whether the receiver failed, must not depend on
// the pauses. The references are those of the other fuzz targets.
func FuzzReceiversPause(f *testing.F) {
	f.Add([]byte("a\r\nbb\r\nccc\r\n"), uint8(0), []byte{1}, []byte{0, 1}, uint64(1), uint8(0))
	f.Add([]byte("a\nbb\ncc\ncccc\n"), uint8(1), []byte{1, 0}, []byte{1}, uint64(2), uint8(3))
	f.Add([]byte("\x02ab\x00\x01c\x03abc"), uint8(2), []byte{1}, []byte{0, 0, 1}, uint64(3), uint8(0))
	f.Add([]byte("\x00\x02ab\x00\x00\x00\x03abc"), uint8(3), []byte{1, 1, 0}, []byte{1}, uint64(4), uint8(2))
	f.Add([]byte("\x00\x00\x00\x02ab\x00\x00\x00\x00"), uint8(4), []byte{1}, []byte{}, uint64(5), uint8(0))
	f.Add([]byte("2:ab,0:,3:abc,1:x,"), uint8(5), []byte{1}, []byte{1, 0}, uint64(6), uint8(0))
	f.Add([]byte("2:ab,5:abc,"), uint8(5), []byte{0, 1}, []byte{1}, uint64(7), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, kindArg uint8, pauses, resumes []byte, seed uint64, maxArg uint8) {
		kind := pauseKinds[int(kindArg)%len(pauseKinds)]
		maxLen := int(maxArg) // 0: the receiver's default
		picks := func(bits []byte, i int) bool { return len(bits) > 0 && bits[i%len(bits)]&1 != 0 }

		items := 0
		p, got := kind.make(func(p pauseProto, item string) {
			if picks(pauses, items) {
				p.PauseProducing()
			}
			items++
		})
		var (
			want    []string
			failed  bool
			errOf   func() error
			matches error
		)
		switch pp := p.(type) {
		case *lineRec:
			pp.MaxLength = maxLen
			lines, _, tooLong := refSplit(data, []byte(protocol.DefaultLineDelimiter), lineMaxOf(maxLen))
			for _, l := range lines {
				want = append(want, string(l))
			}
			failed, errOf, matches = tooLong, pp.Err, protocol.ErrLineTooLong
		case *onlyRec:
			pp.MaxLength = maxLen
			lines, _, tooLong := refSplit(data, []byte(protocol.DefaultLineDelimiter), lineMaxOf(maxLen))
			for _, l := range lines {
				want = append(want, string(l))
			}
			failed, errOf, matches = tooLong, pp.Err, protocol.ErrLineTooLong
		case strProto:
			pp.setMaxLength(maxLen)
			limit := maxLen
			if limit == 0 {
				limit = protocol.DefaultMaxStringLength
			}
			errOf = pp.Err
			if kind.name == "Netstring" {
				want, failed, _ = refNetstring(data, limit)
				matches = protocol.ErrNetstringParse
			} else {
				width := map[string]int{"Int8": 1, "Int16": 2, "Int32": 4}[kind.name]
				var exceeded int64
				want, exceeded = refIntN(data, width, limit)
				failed, matches = exceeded >= 0, protocol.ErrLengthLimitExceeded
			}
		default:
			t.Fatalf("unexpected receiver %T", p)
		}

		tr := transporttest.New()
		protocol.MakeConnection(p, tr)
		for i, piece := range strRandomPieces(data, seed) {
			pauseFeed(p, piece, 0)
			if picks(resumes, i) {
				p.ResumeProducing()
				tr.Clock().Advance(0)
			}
		}
		for range len(data) + 1 { // each resume delivers at least one held item
			if !tr.Paused() || tr.Disconnecting() {
				break
			}
			p.ResumeProducing()
			tr.Clock().Advance(0)
		}
		if !failed && (tr.Paused() || tr.Disconnecting()) {
			t.Fatalf("paused %v, disconnecting %v after resuming everything", tr.Paused(), tr.Disconnecting())
		}
		if g := got(); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
			t.Fatalf("delivered %q, want %q", g, want)
		}
		err := errOf()
		if (err != nil) != failed || (failed && !errors.Is(err, matches)) {
			t.Fatalf("Err() = %v, want failed %v (matching %v)", err, failed, matches)
		}
		if failed && tr.CloseError() != err {
			t.Fatalf("CloseError() = %v, want Err() = %v", tr.CloseError(), err)
		}
	})
}
