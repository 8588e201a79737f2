package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/internal/tlstest"
)

// TestListenSSL runs echo and chat on Twisted's ssl: endpoint string.
func TestListenSSL(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	files, err := certs.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	listen := "ssl:0:interface=127.0.0.1:privateKey=" + files["server.key"] + ":certKey=" + files["server.pem"]
	for _, tt := range []struct {
		cmd, send, want string
	}{
		{"echo", "hello over TLS\n", "hello over TLS\n"},
		{"chat", "/nick ana\r\n", ""},
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			env, _, stderr := testEnv(t)
			ready := make(chan net.Addr, 1)
			env.ready = func(a net.Addr) { ready <- a }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- lookup(tt.cmd).run(ctx, env, []string{"--listen", listen, "--loops", "1"}) }()
			var addr net.Addr
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("%s returned before listening: %v (stderr %q)", tt.cmd, err, stderr)
			case <-time.After(5 * time.Second):
				t.Fatal("did not listen within 5s")
			}
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr.String(), certs.ClientConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte(tt.send))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if tt.want != "" && line != tt.want {
				t.Fatalf("got %q, want %q", line, tt.want)
			}
			if tt.want == "" && strings.TrimSpace(line) == "" {
				t.Fatalf("no answer from %s", tt.cmd)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("%s after cancel: %v", tt.cmd, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("did not stop")
			}
		})
	}
}
