package reactor_test

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// addrEcho greets with the addresses its transport reports in
// ConnectionMade, then echoes.
type addrEcho struct{ protocol.Base }

func (a *addrEcho) ConnectionMade() {
	t := a.Transport()
	fmt.Fprintf(t, "HELLO %s %s\r\n", t.RemoteAddr(), t.LocalAddr())
}

func (a *addrEcho) DataReceived(data []byte) { a.Transport().Write(data) }

func addrEchoFactory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &addrEcho{} })
}

// sendSegments writes each piece in its own TCP segment (no Nagle, a pause
// between writes).
func sendSegments(t *testing.T, c net.Conn, pieces ...string) {
	t.Helper()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	for i, p := range pieces {
		if i > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

func expectRead(t *testing.T, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(want))
	if n, err := readFull(c, buf); err != nil {
		t.Fatalf("read: %v after %q", err, buf[:n])
	}
	if string(buf) != want {
		t.Fatalf("got %q, want %q", buf, want)
	}
}

// TestHAProxyEndpointSplitHeader serves "haproxy:tcp:..." and sends headers
// cut into several TCP segments, the protocol's first bytes sharing the
// last one: the protocol greets with the client's addresses, and echoes.
func TestHAProxyEndpointSplitHeader(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	running(t, r)
	p, err := r.Listen("haproxy:tcp:0:interface=127.0.0.1", addrEchoFactory())
	if err != nil {
		t.Fatal(err)
	}
	v2 := "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + "\xc6\x33\x64\x07" + "\xcb\x00\x71\x09" + "\xdc\x04\x01\xbb"
	tests := []struct {
		name   string
		pieces []string
	}{
		{"v1 in 4 segments", []string{"PROX", "Y TCP4 198.51.10", "0.7 203.0.113.9 56324 44", "3\r\nping"}},
		{"v1 byte by byte", strings.Split("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n", "")},
		{"v2 in 3 segments", []string{v2[:5], v2[5:17], v2[17:] + "ping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, p)
			sendSegments(t, c, tc.pieces...)
			expectRead(t, c, "HELLO 198.51.100.7:56324 203.0.113.9:443\r\n")
			if !strings.HasSuffix(tc.pieces[len(tc.pieces)-1], "ping") {
				sendSegments(t, c, "ping")
			}
			expectRead(t, c, "ping")
		})
	}
}

// TestHAProxyEndpointRefuses: a connection without a valid header, or whose
// header does not come in time, is closed with nothing written, and one warn
// line says why.
func TestHAProxyEndpointRefuses(t *testing.T) {
	logs := &syncBuffer{}
	r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(zerolog.New(logs).Level(zerolog.WarnLevel)))
	running(t, r)
	p, err := r.ListenTCP("127.0.0.1:0", haproxy.Wrap(addrEchoFactory(), haproxy.WithHeaderTimeout(200*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, send, log string
	}{
		{"http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "malformed PROXY protocol header"},
		{"bad v1", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "invalid port number"},
		{"timeout", "PROXY TCP4 1.2", "no PROXY protocol header in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, p)
			sendSegments(t, c, tc.send)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil || len(got) != 0 {
				t.Fatalf("read %q, %v; want nothing and EOF", got, err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for !strings.Contains(logs.String(), c.LocalAddr().String()) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, c.LocalAddr().String()) {
					line = l
				}
			}
			if !strings.Contains(line, `"level":"warn"`) || !strings.Contains(line, tc.log) {
				t.Fatalf("log line %q, want a warn naming %q", line, tc.log)
			}
		})
	}
}

// TestHAProxyEndpointUnix serves "haproxy:unix:PATH".
func TestHAProxyEndpointUnix(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	path := filepath.Join(t.TempDir(), "app.sock")
	if _, err := r.Listen("haproxy:unix:"+path, addrEchoFactory()); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendSegments(t, c, "PROXY TCP6 2001:db8::1 2001:db8::2 1024 80\r\n")
	expectRead(t, c, "HELLO [2001:db8::1]:1024 [2001:db8::2]:80\r\n")
	sendSegments(t, c, "PROXY UNKNOWN\r\n") // after the header: plain data
	expectRead(t, c, "PROXY UNKNOWN\r\n")
}
