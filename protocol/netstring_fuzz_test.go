package protocol_test

import (
	"errors"
	"math/big"
	"slices"
	"strconv"
	"testing"

	"github.com/whirl-go/whirl/protocol"
)

// refNetstring decodes data all at once, the simple way: the netstrings before
// the first error, whether there is an error in data (complete or not), and
// whether it is a length over limit.
func refNetstring(data []byte, limit int) (strs []string, failed, tooLong bool) {
	for len(data) > 0 {
		i := 0
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		digits := string(data[:i])
		switch {
		case i == 0:
			return strs, true, false
		case len(digits) > 1 && digits[0] == '0':
			return strs, true, false
		}
		length, _ := new(big.Int).SetString(digits, 10)
		if length.Cmp(big.NewInt(int64(limit))) > 0 {
			return strs, true, true
		}
		if i == len(data) {
			return strs, false, false
		}
		if data[i] != ':' {
			return strs, true, false
		}
		n, _ := strconv.Atoi(digits)
		rest := data[i+1:]
		if len(rest) <= n {
			return strs, false, false
		}
		if rest[n] != ',' {
			return strs, true, false
		}
		strs = append(strs, string(rest[:n]))
		data = rest[n+1:]
	}
	return strs, false, false
}

func FuzzNetstringReceiver(f *testing.F) {
	f.Add([]byte("5:hello,0:,"), uint16(0), uint64(1))
	f.Add([]byte("3:abc,05:hello,"), uint16(0), uint64(2))
	f.Add([]byte("11:hello world,"), uint16(10), uint64(3))
	f.Add([]byte("99999999999999999999999:"), uint16(0), uint64(4))
	f.Add([]byte("2:ab;"), uint16(0), uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, maxLength uint16, seed uint64) {
		limit := int(maxLength)
		if limit == 0 {
			limit = protocol.DefaultMaxStringLength
		}
		wantStrs, wantFailed, wantTooLong := refNetstring(data, limit)

		p, tr := strConnect(strNetstring.hooked)
		p.setMaxLength(int(maxLength))
		strFeedChecked(t, p, strRandomPieces(data, seed), limit)

		if got := p.ev().strings; !slices.Equal(got, wantStrs) {
			t.Fatalf("received %q, want %q", got, wantStrs)
		}
		if got := len(p.ev().parseErrs); got != 0 && got != 1 || (got == 1) != wantFailed {
			t.Fatalf("NetstringParseFailed called %d times (%v), want a parse error: %v", got, p.ev().parseErrs, wantFailed)
		}
		err := p.Err()
		if (err != nil) != wantFailed || wantFailed && !errors.Is(err, protocol.ErrNetstringParse) {
			t.Fatalf("Err() = %v, want a parse error: %v", err, wantFailed)
		}
		if got := errors.Is(err, protocol.ErrLengthLimitExceeded); got != wantTooLong {
			t.Fatalf("Err() = %v, matches ErrLengthLimitExceeded: %v, want %v", err, got, wantTooLong)
		}
		if !tr.Connected() {
			t.Fatal("connection closed; the hooked protocol never closes it")
		}
	})
}

// TestRefNetstring pins the reference decoder the fuzz target trusts.
func TestRefNetstring(t *testing.T) {
	tests := []struct {
		in              string
		want            []string
		failed, tooLong bool
	}{
		{"5:hello,0:,", []string{"hello", ""}, false, false},
		{"5:hello,12", []string{"hello"}, false, false},
		{"5:hel", nil, false, false},
		{"05:hello,", nil, true, false},
		{"1:a,x", []string{"a"}, true, false},
		{"5:hello;", nil, true, false},
		{"100000", nil, true, true},
		{"3x", nil, true, false},
	}
	for _, tt := range tests {
		strs, failed, tooLong := refNetstring([]byte(tt.in), protocol.DefaultMaxStringLength)
		if !slices.Equal(strs, tt.want) || failed != tt.failed || tooLong != tt.tooLong {
			t.Errorf("refNetstring(%q) = %q, %v, %v; want %q, %v, %v", tt.in, strs, failed, tooLong, tt.want, tt.failed, tt.tooLong)
		}
	}
}
