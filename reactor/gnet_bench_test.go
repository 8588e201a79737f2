package reactor_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// rawEcho is gnet's own echo example: the baseline BenchmarkEcho compares to.
type rawEcho struct {
	gnet.BuiltinEventEngine
	eng   gnet.Engine
	ready chan struct{}
}

func (e *rawEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.ready)
	return gnet.None
}

func (e *rawEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

// BenchmarkRawGnetEcho is BenchmarkEcho against a raw gnet echo server with
// one loop, for the ratio.
func BenchmarkRawGnetEcho(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			e := &rawEcho{ready: make(chan struct{})}
			done := make(chan error, 1)
			go func() { done <- gnet.Run(e, "tcp://"+addr, gnet.WithNumEventLoop(1)) }()
			<-e.ready
			b.Cleanup(func() {
				e.eng.Stop(b.Context())
				<-done
			})
			var c net.Conn
			for i := 0; i < 50; i++ {
				if c, err = net.Dial("tcp", addr); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if c == nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg, buf := make([]byte, size), make([]byte, size)
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
