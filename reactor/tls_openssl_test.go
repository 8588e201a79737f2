package reactor_test

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
)

// sClient runs openssl s_client against addr with the arguments and stdin,
// and returns its output. The test is skipped without openssl (Debian's
// openssl package; CI installs it).
func sClient(t *testing.T, addr, caFile, stdin string, args ...string) string {
	t.Helper()
	return sClientFrom(t, addr, caFile, strings.NewReader(stdin), args...)
}

// sClientFrom is sClient with stdin read from r.
func sClientFrom(t *testing.T, addr, caFile string, stdin io.Reader, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	args = append([]string{"s_client", "-connect", addr, "-CAfile", caFile, "-servername", "localhost", "-verify_return_error", "-msg"}, args...)
	cmd := exec.Command(path, args...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("openssl s_client did not finish:\n%s", out.String())
	}
	return out.String()
}

func TestTLSOpenSSLClient(t *testing.T) {
	certs := testCerts(t)
	files, err := certs.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	p := listenTLS(t, r, factory.ForProtocol(func() protocol.Protocol { return &closer{ev: ev} }), certs.ServerConfig())
	running(t, r)
	addr := p.Addr().String()
	for _, ver := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(ver, func(t *testing.T) {
			// Echo, then the server closes: openssl sees close_notify.
			out := sClient(t, addr, files["ca.pem"], "hello\r\nclose\r\n", ver, "-ign_eof")
			if !strings.Contains(out, "hello\r\n") || !strings.Contains(out, "bye\r\n") {
				t.Fatalf("no echo in:\n%s", out)
			}
			if !strings.Contains(out, "<<< ") || !receivedCloseNotify(out) {
				t.Fatalf("openssl did not receive close_notify:\n%s", out)
			}
			if reason := waitTLSLost(t, ev); !errors.Is(reason, transport.ErrConnectionDone) {
				t.Fatalf("server's reason %v", reason)
			}
			// openssl closes at the end of its input: close_notify to the
			// server, a clean close.
			out = sClient(t, addr, files["ca.pem"], "ping\r\n", ver)
			if !sentCloseNotify(out) {
				t.Fatalf("openssl did not send close_notify:\n%s", out)
			}
			if reason := waitTLSLost(t, ev); !errors.Is(reason, transport.ErrConnectionDone) {
				t.Fatalf("server's reason %v", reason)
			}
		})
	}

	// A client certificate checked by openssl's client.
	t.Run("client certificate", func(t *testing.T) {
		ev := newTLSEvents()
		scfg := certs.ServerConfig()
		scfg.ClientAuth = 4 // tls.RequireAndVerifyClientCert
		scfg.ClientCAs = certs.Pool
		p := listenTLS(t, r, factory.ForProtocol(func() protocol.Protocol { return &closer{ev: ev} }), scfg)
		out := sClient(t, p.Addr().String(), files["ca.pem"], "hello\r\nclose\r\n", "-ign_eof", "-cert", files["client.pem"], "-key", files["client.key"])
		if !strings.Contains(out, "bye\r\n") {
			t.Fatalf("no echo with a client certificate:\n%s", out)
		}
		waitTLSLost(t, ev)
	})
}

// receivedCloseNotify and sentCloseNotify read openssl's -msg trace.
func receivedCloseNotify(out string) bool { return traceHas(out, "<<<", "close_notify") }
func sentCloseNotify(out string) bool     { return traceHas(out, ">>>", "close_notify") }

func traceHas(out, dir, what string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, dir) && strings.Contains(line, "Alert") && strings.Contains(line, what) {
			return true
		}
	}
	return false
}

// TestTLSRenegotiationRefused: a TLS 1.2 client asking to renegotiate ("R"
// in openssl s_client) is refused, and the connection closed with a reason
// matching tlsproto.ErrProtocol.
func TestTLSRenegotiationRefused(t *testing.T) {
	certs := testCerts(t)
	files, err := certs.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	p := listenTLS(t, r, ev.factory(), certs.ServerConfig())
	running(t, r)
	// s_client takes "R" as a command at the start of what it reads from
	// its input, and closes at the end of it: give it "R" alone, then the
	// end a while later.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("R\n"))
		time.Sleep(500 * time.Millisecond)
		pw.Close()
	}()
	out := sClientFrom(t, p.Addr().String(), files["ca.pem"], pr, "-tls1_2")
	if !strings.Contains(out, "RENEGOTIATING") {
		t.Fatalf("openssl did not renegotiate:\n%s", out)
	}
	reason := waitTLSLost(t, ev)
	if !errors.Is(reason, tlsproto.ErrProtocol) || !errors.Is(reason, transport.ErrConnectionAborted) {
		t.Fatalf("reason %v, want one matching tlsproto.ErrProtocol and ErrConnectionAborted", reason)
	}
	if !traceHas(out, "<<<", "Alert") {
		t.Fatalf("openssl got no alert:\n%s", out)
	}
}
