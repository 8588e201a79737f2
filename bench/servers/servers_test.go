package servers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/servers"
)

// start runs server kind on 127.0.0.1:0 until the test ends and returns its
// address.
func start(tb testing.TB, kind string) string {
	tb.Helper()
	return startAt(tb, kind, "127.0.0.1:0").String()
}

// startAt runs server kind on addr until the test ends and returns the
// address it reported ready.
func startAt(tb testing.TB, kind, addr string) net.Addr {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- servers.Serve(ctx, kind, addr, servers.Options{Loops: 1}, func(a net.Addr) { addrc <- a })
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Serve(%s) returned %v after its context ended", kind, err)
			}
		case <-time.After(15 * time.Second):
			tb.Errorf("Serve(%s) still running 15 s after its context ended", kind)
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		tb.Fatalf("Serve(%s) = %v before listening", kind, err)
	case <-time.After(10 * time.Second):
		tb.Fatalf("Serve(%s) did not listen within 10 s", kind)
	}
	return nil
}

// tcpKinds are the TCP echo servers of Kinds (udp_test.go tests the UDP
// ones, unix_test.go the UNIX ones, gnetex_test.go those of gnet's
// examples).
func tcpKinds() []string {
	var out []string
	for _, k := range servers.Kinds() {
		if servers.Family(k) == servers.FamilyEcho {
			out = append(out, k)
		}
	}
	return out
}

func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestServe(t *testing.T) {
	// Lines, so that the line server echoes them too; written in pieces
	// of several sizes, read back whole.
	msg := bytes.Repeat([]byte("0123456789abcdef"), 300)
	msg = append(msg[:len(msg)-2], "\r\n"...)
	for _, kind := range tcpKinds() {
		t.Run(kind, func(t *testing.T) {
			addr := start(t, kind)
			for _, chunk := range []int{1, 2, 3, 100, len(msg)} {
				echoInChunks(t, dial(t, addr), msg, chunk)
			}
		})
	}
}

func TestServeUnknownKind(t *testing.T) {
	err := servers.Serve(context.Background(), "nginx", "127.0.0.1:0", servers.Options{}, nil)
	if !errors.Is(err, servers.ErrUnknownKind) {
		t.Errorf("err = %v, want ErrUnknownKind", err)
	}
	if servers.Known("nginx") {
		t.Error(`Known("nginx") = true`)
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, kind := range tcpKinds() {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := servers.Serve(ctx, kind, ln.Addr().String(), servers.Options{Loops: 1}, nil); err == nil {
				t.Errorf("Serve on an address in use returned nil")
			}
		})
	}
}

// BenchmarkEcho is one loopback round trip per operation through each Go
// server, one connection, one loop; allocs/op counts the whole process
// (client included), so 0 means the server's per-message path does not
// allocate.
func BenchmarkEcho(b *testing.B) {
	for _, kind := range tcpKinds() {
		for _, size := range []int{64, 4096} {
			b.Run(fmt.Sprintf("%s/%dB", kind, size), func(b *testing.B) {
				c := dial(b, start(b, kind))
				_ = c.SetDeadline(time.Time{})
				msg := bytes.Repeat([]byte{'x'}, size)
				copy(msg[size-2:], "\r\n")
				buf := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// echoInChunks writes msg to c in pieces of chunk bytes and checks it comes
// back whole.
func echoInChunks(t *testing.T, c net.Conn, msg []byte, chunk int) {
	t.Helper()
	for off := 0; off < len(msg); off += chunk {
		if _, err := c.Write(msg[off:min(off+chunk, len(msg))]); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("chunks of %d: %v", chunk, err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("chunks of %d: echo differs from what was sent", chunk)
	}
}
