package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHTTPPlainCommand(t *testing.T) {
	addr := startServer(t, "httpplain", "--listen", "127.0.0.1:0", "--log-level", "disabled")
	c := dialServer(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	for range 2 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != "Hello World!" {
			t.Fatalf("got %d %q", resp.StatusCode, b)
		}
	}
}

func TestPushCommand(t *testing.T) {
	addr := startServer(t, "push", "--listen", "127.0.0.1:0", "--interval", "10ms", "--log-level", "disabled")
	line, err := bufio.NewReader(dialServer(t, addr)).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.ParseInt(strings.TrimSuffix(line, "\n"), 10, 64); err != nil {
		t.Fatalf("pushed %q: %v", line, err)
	}
}

func TestSimpleprotoCommands(t *testing.T) {
	addr := startServer(t, "simpleproto", "--listen", "127.0.0.1:0", "--log-level", "disabled")
	env, stdout, stderr := testEnv(t)
	err := lookup("simpleproto").run(context.Background(), env, []string{"client", "--address", addr,
		"--concurrency", "4", "--packet-batch", "10", "--packet-count", "5", "--loops", "1"})
	if err != nil {
		t.Fatalf("client: %v (stderr %q)", err, stderr)
	}
	if !strings.Contains(stdout.String(), "4 of 4 clients done: 200 packets") {
		t.Fatalf("client printed %q", stdout)
	}
	env, _, stderr = testEnv(t)
	err = lookup("simpleproto").run(context.Background(), env, []string{"client", "--concurrency", "-1"})
	if err == nil || !strings.Contains(stderr.String(), "bad setting") {
		t.Fatalf("a negative --concurrency: %v, stderr %q", err, stderr)
	}
}

func TestWebSocketCommand(t *testing.T) {
	addr := startServer(t, "websocket", "--listen", "127.0.0.1:0", "--log-level", "disabled")
	c := dialServer(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	_, _ = c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, 'h', 'i'}) // "hi", masked with a zero key
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	frame := make([]byte, 4)
	if _, err := io.ReadFull(br, frame); err != nil || string(frame) != "\x81\x02hi" {
		t.Fatalf("echo %q, %v", frame, err)
	}
}

// TestEchoOnUnixSocket is gnet's UNIX-socket echo: whirl echo --listen
// unix:PATH.
func TestEchoOnUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	startServer(t, "echo", "--listen", "unix:"+path, "--log-level", "disabled")
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "over a UNIX socket")
	got := make([]byte, len("over a UNIX socket"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "over a UNIX socket" {
		t.Fatalf("echo %q, %v", got, err)
	}
}
