package tcpecho_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestEchoLines runs the server's HandleStream on an in-memory transport:
// each line comes back once the previous write drained.
func TestEchoLines(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			srv := tcpecho.NewServer(zerolog.Nop())
			tr := transporttest.New()
			p := srv.BuildProtocol(tr.RemoteAddr())
			protocol.MakeConnection(p, tr)
			s := p.(*stream.Stream)
			if srv.Clients() != 1 {
				t.Errorf("Clients() = %d, want 1", srv.Clients())
			}
			input := []byte("ping\nsecond line\n\nno newline")
			for _, piece := range transporttest.Chunks(input, size) {
				s.DataReceived(piece)
				for s.Writing() {
					// The kernel took the output: the stream's producer
					// (registered at its first write with a done) is told,
					// after the registration's own call.
					prod, _ := tr.Producer()
					if !primed[prod] {
						primed[prod] = true
						prod.ResumeProducing()
					}
					prod.ResumeProducing()
				}
			}
			if got, want := string(tr.Value()), "ping\nsecond line\n\n"; got != want {
				t.Errorf("echoed %q, want %q", got, want)
			}
			s.ConnectionLost(transport.ErrConnectionDone)
			if srv.Clients() != 0 {
				t.Errorf("Clients() = %d after the close, want 0", srv.Clients())
			}
		})
	}
}

// primed records the producers whose registration call was made.
var primed = map[transport.Producer]bool{}

// startServer runs the tcpecho command on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- tcpecho.Run(ctx, "tcpecho", []string{"--listen", "tcp:0:interface=127.0.0.1", "--loops", "2"}, &stderr, logs, func(a net.Addr) { ready <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server still running 15 s after its context ended")
		}
	})
	select {
	case a := <-ready:
		return a.String()
	case err := <-done:
		t.Fatalf("Run = %v before listening (%s)", err, &stderr)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not listen within 10 s")
	}
	return ""
}

func TestServerAndClient(t *testing.T) {
	addr := startServer(t)
	host, port := splitAddr(t, addr)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tcpecho.Send(ctx, host, port, "hello, whirl", &out); err != nil {
		t.Fatal(err)
	}
	if want := "Sent to server: hello, whirl\nResponse from server: hello, whirl\n"; out.String() != want {
		t.Errorf("client printed %q, want %q", out.String(), want)
	}
	// Many lines at once, as telnet would paste them.
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	want := strings.Repeat("0123456789abcdef line\n", 5000)
	go func() { _, _ = io.WriteString(c, want) }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("echo of %d bytes: %v (equal %v)", len(want), err, string(got) == want)
	}
}

func TestClientConnectFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, l.Addr().String())
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tcpecho.Send(ctx, host, port, "x", io.Discard); !errorsIs(err, transport.ErrConnectionRefused) {
		t.Errorf("Send to a closed port = %v, want ErrConnectionRefused", err)
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}
