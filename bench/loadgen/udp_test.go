package loadgen_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
)

// udpServer echoes datagrams on 127.0.0.1:0, passing each through f (nil
// drops it), until the test ends.
func udpServer(t *testing.T, f func(n int, p []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for i := 0; ; i++ {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := f(i, buf[:n]); out != nil {
				pc.WriteTo(out, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func udpConfig(addr string) loadgen.Config {
	return loadgen.Config{Addr: addr, Conns: 3, Size: 64, Depth: 2, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond}
}

func TestRunUDP(t *testing.T) {
	addr := udpServer(t, func(_ int, p []byte) []byte { return p })
	res, err := loadgen.RunUDP(context.Background(), udpConfig(addr))
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Messages == 0 || res.Lost != 0 || res.Mode != "udp" {
		t.Fatalf("result %+v", res)
	}
}

func TestRunUDPCountsLoss(t *testing.T) {
	addr := udpServer(t, func(i int, p []byte) []byte {
		if i%50 == 7 {
			return nil
		}
		return p
	})
	res, err := loadgen.RunUDP(context.Background(), udpConfig(addr))
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Lost == 0 {
		t.Fatalf("result %+v: want echoes verified and some lost", res)
	}
}

func TestRunUDPMismatch(t *testing.T) {
	addr := udpServer(t, func(_ int, p []byte) []byte {
		p[20] ^= 1
		return p
	})
	res, err := loadgen.RunUDP(context.Background(), udpConfig(addr))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches == 0 || res.OK() {
		t.Fatalf("result %+v: want mismatches", res)
	}
}
