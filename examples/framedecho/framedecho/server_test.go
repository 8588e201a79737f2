package framedecho_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// The integration tests run the echo on a real reactor with two loops, on
// 127.0.0.1:0, and talk to it with plain TCP clients.

// server runs f on a reactor with two loops until the test ends, and returns
// the address it listens on.
func server(t *testing.T, f factory.Factory) string {
	t.Helper()
	return reactortest.Serve(t, f, reactor.WithLoops(2)).Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// write sends each piece with its own Write call.
func write(t *testing.T, c net.Conn, pieces ...string) {
	t.Helper()
	for _, p := range pieces {
		if _, err := io.WriteString(c, p); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// expect reads len(want) bytes and checks they are want.
func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if n, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %d of %d bytes: %v", n, len(want), err)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// expectEOF checks the server closed the connection cleanly with nothing
// more to read.
func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read %d bytes, %v; want the end of the stream", n, err)
	}
}

func TestServerRoundTrip(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.String(), func(t *testing.T) {
			addr := server(t, &framedecho.Factory{Framing: fr})
			c := dial(t, addr)
			var all strings.Builder
			for _, p := range []string{"hello", "", "world", strings.Repeat("w", largest(fr, 50000)), ""} {
				f := frame(fr, p)
				all.WriteString(f)
				write(t, c, f)
				expect(t, c, f)
			}
			// Many frames in one write come back in order.
			write(t, c, all.String())
			expect(t, c, all.String())
			// A second client is echoed on its own (and likely on the
			// other loop).
			d := dial(t, addr)
			write(t, d, frame(fr, "second"))
			expect(t, d, frame(fr, "second"))
		})
	}
}

func TestServerSplitFrame(t *testing.T) {
	for _, fr := range framings {
		t.Run(fr.String(), func(t *testing.T) {
			c := dial(t, server(t, &framedecho.Factory{Framing: fr}))
			f := frame(fr, "split across writes")
			// One byte per write; Go's TCP connections have Nagle off, so
			// each is its own segment.
			for i := range len(f) {
				write(t, c, f[i:i+1])
			}
			expect(t, c, f)
			// The end of one frame and the start of the next in one write.
			g := frame(fr, "next")
			write(t, c, f[:3], f[3:]+g[:2], g[2:])
			expect(t, c, f+g)
		})
	}
}

func TestServerOversize(t *testing.T) {
	for _, fr := range framings {
		for _, maxLength := range []int{0, 8} {
			limit := largest(fr, maxLength)
			if maxLength == 0 {
				limit = largest(fr, 99999)
			}
			if limit == largest(fr, limit+1) {
				continue // the prefix cannot announce more than the limit
			}
			t.Run(fmt.Sprintf("%v/max=%d", fr, maxLength), func(t *testing.T) {
				c := dial(t, server(t, &framedecho.Factory{Framing: fr, MaxLength: maxLength}))
				ok := frame(fr, strings.Repeat("k", limit))
				write(t, c, ok)
				expect(t, c, ok)
				// Only the header: the server closes before any payload.
				write(t, c, header(fr, limit+1))
				expectEOF(t, c)
			})
		}
	}
}

func TestServerMalformedNetstring(t *testing.T) {
	for _, in := range []string{"abc", "5:hello!", "05:hello,", ":,", "1x:a,"} {
		t.Run(in, func(t *testing.T) {
			c := dial(t, server(t, &framedecho.Factory{Framing: framedecho.Netstring}))
			write(t, c, "2:ok,")
			expect(t, c, "2:ok,")
			write(t, c, in)
			expectEOF(t, c)
		})
	}
}
