package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
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

// TestEchoOnUnixSocket is the echo on a UNIX listener: whirl echo --listen
// unix:PATH, what whirl unixecho runs.
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

// TestUnixEchoWithSocat is gnet's UNIX-socket echo with a real client: whirl
// unixecho on a socket in a temporary directory, and socat sending lines to
// it (apt-get install socat; skipped without it). The socket file and its
// lock are gone once the server stops.
func TestUnixEchoWithSocat(t *testing.T) {
	socat := lookSocat(t)
	path := filepath.Join(t.TempDir(), "echo.sock")
	t.Run("serve", func(t *testing.T) {
		startServer(t, "unixecho", "--listen", "unix:"+path, "--log-level", "disabled")
		in := "over a UNIX socket\nand a second line\n"
		if got := runSocat(t, socat, in, "UNIX-CONNECT:"+path); got != in {
			t.Fatalf("socat got %q back, want %q", got, in)
		}
	})
	for _, p := range []string{path, path + ".lock"} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the server stopped: %v, want it removed", p, err)
		}
	}
}

// TestUDPEchoWithSocat is gnet's UDP echo with a real client: socat sends a
// datagram to whirl udpecho and prints the one that comes back.
func TestUDPEchoWithSocat(t *testing.T) {
	socat := lookSocat(t)
	addr := startServer(t, "udpecho", "--listen", "127.0.0.1:0", "--loops", "1")
	if got := runSocat(t, socat, "one datagram\n", "UDP:"+addr); got != "one datagram\n" {
		t.Fatalf("socat got %q back", got)
	}
}

// lookSocat returns socat's path, or skips the test.
func lookSocat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("socat not installed (apt-get install socat):", err)
	}
	return p
}

// runSocat runs socat between its standard input (in) and addr, and
// returns what it printed. It waits up to 2 s for answers after in is sent.
func runSocat(t *testing.T, socat, in, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, socat, "-t", "2", "-", addr)
	cmd.Stdin = strings.NewReader(in)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("socat %s: %v (stderr %q)", addr, err, errOut.String())
	}
	return out.String()
}
