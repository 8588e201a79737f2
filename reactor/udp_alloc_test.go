//go:build !race && linux

package reactor_test

import (
	"testing"

	"github.com/whirl-go/whirl/reactor"
)

// TestUDPEchoAllocs pins 0 allocations per echoed datagram in steady state,
// for the whole process (client write and read, recvmmsg, the peer's
// address, DatagramReceived, WriteTo, sendmsg), in both receive modes.
// Linux only: elsewhere recvmsg returns a new address per datagram.
func TestUDPEchoAllocs(t *testing.T) {
	for _, batch := range []int{0, 1} {
		r := reactor.New(reactor.WithLoops(1))
		u := listenUDP(t, r, "127.0.0.1:0", &udpEcho{}, reactor.UDPBatch(batch))
		running(t, r)
		c := dialUDP(t, u)
		msg, buf := make([]byte, 64), make([]byte, 64)
		for i := 0; i < 100; i++ {
			udpRoundTrip(t, c, msg, buf)
		}
		allocs := testing.AllocsPerRun(1000, func() { udpRoundTrip(t, c, msg, buf) })
		if allocs > 0 {
			t.Errorf("batch %d: %.2f allocations per echoed datagram, want 0", batch, allocs)
		}
	}
}
