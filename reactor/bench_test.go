package reactor_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/whirl-go/whirl/reactor"
)

// BenchmarkEcho measures one loopback round trip through whirl's echo
// protocol per operation, at several message sizes; allocs/op counts the
// whole process (client included), so 0 means whirl's per-message path does
// not allocate.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			r := reactor.New(reactor.WithLoops(1))
			p := listen(b, r, echoFactory())
			running(b, r)
			c := dial(b, p)
			msg := make([]byte, size)
			buf := make([]byte, size)
			roundTripBytes(b, c, msg, buf)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				roundTripBytes(b, c, msg, buf)
			}
		})
	}
}

func roundTripBytes(tb testing.TB, c net.Conn, msg, buf []byte) {
	if _, err := c.Write(msg); err != nil {
		tb.Fatal(err)
	}
	if _, err := readFull(c, buf); err != nil {
		tb.Fatal(err)
	}
}
