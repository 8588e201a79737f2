//go:build !race

package servers_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/whirl-go/whirl/bench/servers"
)

// TestEchoAllocs pins 0 heap allocations per echoed message, in steady state,
// for every Go server: whirl's echo and LineReceiver paths included. It
// counts the whole process, the test's client too.
func TestEchoAllocs(t *testing.T) {
	for _, kind := range tcpKinds() {
		t.Run(kind, func(t *testing.T) {
			c := dial(t, start(t, kind))
			msg := append(bytes.Repeat([]byte{'y'}, 62), "\r\n"...)
			buf := make([]byte, len(msg))
			roundTrip := func() {
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					t.Fatal(err)
				}
			}
			for range 200 {
				roundTrip()
			}
			if allocs := testing.AllocsPerRun(1000, roundTrip); allocs > 0 {
				t.Errorf("%.2f allocations per echoed message, want 0", allocs)
			}
		})
	}
}

// TestUDPEchoAllocs pins 0 heap allocations per echoed datagram for whirl's
// UDP servers (gnet's engine makes a connection object per datagram).
func TestUDPEchoAllocs(t *testing.T) {
	for _, kind := range []string{servers.WhirlUDP, servers.WhirlUDPSingle} {
		t.Run(kind, func(t *testing.T) {
			c := dialUDP(t, start(t, kind))
			msg, buf := bytes.Repeat([]byte{'u'}, 64), make([]byte, 64)
			roundTrip := func() {
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			for range 200 {
				roundTrip()
			}
			if allocs := testing.AllocsPerRun(1000, roundTrip); allocs > 0 {
				t.Errorf("%.2f allocations per echoed datagram, want 0", allocs)
			}
		})
	}
}
