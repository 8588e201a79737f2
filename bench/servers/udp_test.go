package servers_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/servers"
)

var udpKinds = []string{servers.GnetUDP, servers.WhirlUDP, servers.WhirlUDPSingle}

func dialUDP(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestServeUDP(t *testing.T) {
	for _, kind := range udpKinds {
		t.Run(kind, func(t *testing.T) {
			if !servers.UDP(kind) || !servers.Known(kind) {
				t.Fatalf("%s: UDP %v, Known %v", kind, servers.UDP(kind), servers.Known(kind))
			}
			c := dialUDP(t, start(t, kind))
			buf := make([]byte, 2000)
			for _, size := range []int{1, 64, 1472} {
				msg := bytes.Repeat([]byte{byte(size)}, size)
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				n, err := c.Read(buf)
				if err != nil || !bytes.Equal(buf[:n], msg) {
					t.Fatalf("echo of %d bytes: %d bytes, %v", size, n, err)
				}
			}
		})
	}
}

func TestServeUDPAddressInUse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, kind := range udpKinds {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := servers.Serve(ctx, kind, pc.LocalAddr().String(), servers.Options{Loops: 1}, nil); err == nil {
				t.Errorf("Serve on an address in use returned nil")
			}
		})
	}
}
