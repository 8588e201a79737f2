package reactor_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/tlstest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
)

func testCerts(t testing.TB) *tlstest.Certs {
	t.Helper()
	c, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsEvents records what TLS protocols saw, for the test's goroutine.
type tlsEvents struct {
	mu       sync.Mutex
	made     int
	lost     []error
	hs       int
	state    tls.ConnectionState
	stateOK  bool
	received []byte
	lostCh   chan error
}

func newTLSEvents() *tlsEvents { return &tlsEvents{lostCh: make(chan error, 16)} }

// tlsEcho echoes and records its events.
type tlsEcho struct {
	protocol.Base
	ev *tlsEvents
}

func (e *tlsEcho) ConnectionMade() {
	st, ok := tlsproto.ConnectionState(e.Transport())
	e.ev.mu.Lock()
	e.ev.made++
	e.ev.state, e.ev.stateOK = st, ok
	e.ev.mu.Unlock()
}

func (e *tlsEcho) HandshakeCompleted() {
	e.ev.mu.Lock()
	e.ev.hs++
	e.ev.mu.Unlock()
}

func (e *tlsEcho) DataReceived(data []byte) {
	e.ev.mu.Lock()
	e.ev.received = append(e.ev.received, data...)
	e.ev.mu.Unlock()
	e.Transport().Write(data)
}

func (e *tlsEcho) ConnectionLost(reason error) {
	e.ev.mu.Lock()
	e.ev.lost = append(e.ev.lost, reason)
	e.ev.mu.Unlock()
	e.ev.lostCh <- reason
}

func (ev *tlsEvents) factory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &tlsEcho{ev: ev} })
}

func (ev *tlsEvents) snapshot() (made, hs, lost int) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.made, ev.hs, len(ev.lost)
}

func waitTLSLost(t *testing.T, ev *tlsEvents) error {
	t.Helper()
	select {
	case err := <-ev.lostCh:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectionLost not called")
		return nil
	}
}

func listenTLS(t *testing.T, r *reactor.Reactor, f factory.Factory, cfg *tls.Config, opts ...reactor.Option) *reactor.Port {
	t.Helper()
	p, err := r.ListenTLS("127.0.0.1:0", f, cfg, opts...)
	if err != nil {
		t.Fatalf("ListenTLS: %v", err)
	}
	return p
}

func dialTLS(t *testing.T, p *reactor.Port, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", p.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSEchoGoClient(t *testing.T) {
	certs := testCerts(t)
	for _, v := range []struct {
		name string
		ver  uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			ev := newTLSEvents()
			r := reactor.New(reactor.WithLoops(2))
			scfg := certs.ServerConfig()
			scfg.NextProtos = []string{"echo/1"}
			p := listenTLS(t, r, ev.factory(), scfg)
			running(t, r)
			ccfg := certs.ClientConfig()
			ccfg.MinVersion, ccfg.MaxVersion = v.ver, v.ver
			ccfg.NextProtos = []string{"echo/1"}
			c := dialTLS(t, p, ccfg)
			roundTrip(t, c, "hello")
			big := make([]byte, 300<<10)
			for i := range big {
				big[i] = byte(i * 7)
			}
			roundTrip(t, c, string(big))
			ev.mu.Lock()
			st, ok, made, hs := ev.state, ev.stateOK, ev.made, ev.hs
			ev.mu.Unlock()
			if !ok || st.Version != v.ver || st.NegotiatedProtocol != "echo/1" {
				t.Fatalf("ConnectionState in ConnectionMade: ok %v version %x ALPN %q", ok, st.Version, st.NegotiatedProtocol)
			}
			if made != 1 || hs != 1 {
				t.Fatalf("ConnectionMade %d, HandshakeCompleted %d; want 1, 1", made, hs)
			}
			c.Close()
			if err := waitTLSLost(t, ev); err == nil {
				t.Fatal("nil reason")
			}
		})
	}
}

func TestTLSClientCertificates(t *testing.T) {
	certs := testCerts(t)
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	scfg := certs.ServerConfig()
	scfg.ClientAuth = tls.RequireAndVerifyClientCert
	scfg.ClientCAs = certs.Pool
	p := listenTLS(t, r, ev.factory(), scfg)
	running(t, r)

	ccfg := certs.ClientConfig()
	ccfg.Certificates = []tls.Certificate{certs.Client}
	c := dialTLS(t, p, ccfg)
	roundTrip(t, c, "with a certificate")
	ev.mu.Lock()
	st := ev.state
	ev.mu.Unlock()
	if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "whirl test client" {
		t.Fatalf("server saw peer certificates %v", st.PeerCertificates)
	}
	c.Close()
	waitTLSLost(t, ev)

	// Without a certificate the handshake fails; the factory never builds.
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		ccfg := certs.ClientConfig()
		ccfg.MaxVersion = ver
		raw, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tc := tls.Client(raw, ccfg)
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		err = tc.Handshake()
		if err == nil { // TLS 1.3: the client finishes first and hears the alert on its read
			_, err = tc.Read(make([]byte, 1))
		}
		if err == nil || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("version %x: no certificate: client error %v, want the server's alert", ver, err)
		}
		tc.Close()
	}
	time.Sleep(50 * time.Millisecond)
	if made, _, _ := ev.snapshot(); made != 1 {
		t.Fatalf("ConnectionMade %d times, want 1 (failed handshakes never reach the factory)", made)
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	certs := testCerts(t)
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	p := listenTLS(t, r, ev.factory(), certs.ServerConfig(), reactor.WithTLSHandshakeTimeout(200*time.Millisecond))
	running(t, r)
	for _, tt := range []struct {
		name string
		send []byte
	}{
		{"silent", nil},
		{"partial ClientHello", []byte{22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, p)
			c.Write(tt.send)
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(make([]byte, 64))
			if n != 0 || err == nil {
				t.Fatalf("read %d, %v; want the server to close", n, err)
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server did not close a stalled handshake: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("closed after %v", d)
			}
		})
	}
	// A normal client still works.
	roundTrip(t, dialTLS(t, p, certs.ClientConfig()), "after the stalled ones")
	if made, _, _ := ev.snapshot(); made != 1 {
		t.Fatalf("ConnectionMade %d times, want 1", made)
	}
}

func TestTLSGarbageInsteadOfClientHello(t *testing.T) {
	certs := testCerts(t)
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	p := listenTLS(t, r, ev.factory(), certs.ServerConfig())
	running(t, r)
	for _, garbage := range []string{"GET / HTTP/1.0\r\n\r\n", "\x16\x03\x01\x00\x05hello", "\x80\x2e\x01\x03\x01"} {
		c := dial(t, p)
		c.Write([]byte(garbage))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%q: the server did not close: %v", garbage, err)
		}
	}
	if made, _, _ := ev.snapshot(); made != 0 {
		t.Fatalf("ConnectionMade %d times, want 0", made)
	}
}

// recordConn records what a client receives, to find the close_notify.
type recordConn struct {
	net.Conn
	mu  sync.Mutex
	got []byte
}

func (c *recordConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.got = append(c.got, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// lastRecord returns the type and length of the last TLS record received.
func (c *recordConn) lastRecord() (typ byte, length int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.got
	for len(b) >= 5 {
		typ, length = b[0], int(b[3])<<8|int(b[4])
		if len(b) < 5+length {
			return 0, -1
		}
		b = b[5+length:]
	}
	return typ, length
}

// closer closes its connection when told to by a line "close".
type closer struct {
	protocol.LineReceiver
	ev       *tlsEvents
	halfDone chan struct{}
}

func (p *closer) LineReceived(line []byte) {
	switch string(line) {
	case "close":
		p.SendLine([]byte("bye"))
		p.Transport().LoseConnection()
	default:
		p.SendLine(line)
	}
}

func (p *closer) ConnectionLost(reason error) { p.ev.lostCh <- reason }

// tlsHalfCloser answers the peer's close_notify with a last line.
type tlsHalfCloser struct{ closer }

func (p *tlsHalfCloser) ReadConnectionLost() {
	p.SendLine([]byte("you closed"))
	p.Transport().LoseConnection()
}
func (p *tlsHalfCloser) WriteConnectionLost() {}

func TestTLSCloseNotify(t *testing.T) {
	certs := testCerts(t)
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		ev := newTLSEvents()
		var half atomic.Bool
		r := reactor.New(reactor.WithLoops(1))
		f := factory.ForProtocol(func() protocol.Protocol {
			if half.Load() {
				return &tlsHalfCloser{closer{ev: ev}}
			}
			return &closer{ev: ev}
		})
		p := listenTLS(t, r, f, certs.ServerConfig())
		running(t, r)
		ccfg := certs.ClientConfig()
		ccfg.MaxVersion = ver
		open := func() (*tls.Conn, *recordConn, *bufio.Reader) {
			raw, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			rc := &recordConn{Conn: raw}
			tc := tls.Client(rc, ccfg)
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			t.Cleanup(func() { tc.Close() })
			return tc, rc, bufio.NewReader(tc)
		}

		// The server closes: close_notify, then the FIN.
		tc, rc, br := open()
		tc.Write([]byte("close\r\n"))
		line, _ := br.ReadString('\n')
		if line != "bye\r\n" {
			t.Fatalf("got %q", line)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("after the server's LoseConnection: %v, want EOF", err)
		}
		// An encrypted alert: TLS 1.2 sends it as an alert record (2
		// bytes + nonce + tag), TLS 1.3 as application data (2 bytes +
		// type + tag); application data records here are longer.
		typ, n := rc.lastRecord()
		if ver == tls.VersionTLS12 && (typ != 21 || n != 26) || ver == tls.VersionTLS13 && (typ != 23 || n != 19) {
			t.Fatalf("version %x: last record type %d, %d bytes: not a close_notify", ver, typ, n)
		}
		if reason := waitTLSLost(t, ev); !errors.Is(reason, transport.ErrConnectionDone) {
			t.Fatalf("server's reason %v", reason)
		}

		// The client closes with close_notify: a protocol that is not
		// HalfCloseable is closed, with close_notify back.
		tc, rc, br = open()
		tc.Write([]byte("ping\r\n"))
		br.ReadString('\n')
		if err := tc.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("after the client's close_notify: %v, want EOF", err)
		}
		if typ, n := rc.lastRecord(); !(typ == 21 && n == 26 || typ == 23 && n == 19) {
			t.Fatalf("no close_notify back: last record %d, %d bytes", typ, n)
		}
		if reason := waitTLSLost(t, ev); !errors.Is(reason, transport.ErrConnectionDone) {
			t.Fatalf("server's reason %v", reason)
		}

		// A HalfCloseable protocol may still write after the peer's close_notify.
		half.Store(true)
		tc, _, br = open()
		tc.Write([]byte("ping\r\n"))
		br.ReadString('\n')
		tc.CloseWrite()
		if line, err := br.ReadString('\n'); line != "you closed\r\n" {
			t.Fatalf("half-closed: got %q, %v", line, err)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("half-closed: then %v, want EOF", err)
		}
		waitTLSLost(t, ev)
	}
}

func TestConnectTLS(t *testing.T) {
	certs := testCerts(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", certs.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	f := newClientRecorder()
	if _, err := r.ConnectTLS(context.Background(), "localhost:"+port, f, &tls.Config{RootCAs: certs.Pool}); err != nil {
		t.Fatal(err)
	}
	var tr transport.Transport
	select {
	case tr = <-f.made:
	case <-time.After(10 * time.Second):
		t.Fatal("no ConnectionMade")
	}
	if st, ok := tlsproto.ConnectionState(tr); !ok || st.ServerName != "localhost" {
		t.Fatalf("client TLS state %v %+v", ok, st)
	}
	tr.Write([]byte("over TLS"))
	if got := <-f.got; got != "over TLS" {
		t.Fatalf("got %q", got)
	}
	tr.LoseConnection()
	waitErr(t, f.lost, "ClientConnectionLost")

	// An unknown authority: the attempt fails, and no protocol is built.
	f = newClientRecorder()
	if _, err := r.Connect(context.Background(), "tls:localhost:"+port, f); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, tlsproto.ErrHandshakeFailed) || !errors.Is(reason, transport.ErrConnectFailed) {
		t.Fatalf("reason %v, want one matching ErrHandshakeFailed and ErrConnectFailed", reason)
	}
	if ev := f.Events(); strings.Contains(ev, "build") {
		t.Fatalf("events %q: a protocol was built", ev)
	}
}

// starttls is a line protocol with a STARTTLS command, as SMTP's.
type starttls struct {
	protocol.LineReceiver
	cfg *tls.Config
	ev  *tlsEvents
}

func (p *starttls) LineReceived(line []byte) {
	if string(line) == "STARTTLS" {
		p.SendLine([]byte("GO AHEAD"))
		if err := p.Transport().StartTLS(p.cfg, true); err != nil {
			p.SendLine([]byte(err.Error()))
			return
		}
		if err := p.Transport().StartTLS(p.cfg, true); !errors.Is(err, transport.ErrTLSStarted) {
			p.SendLine([]byte("second StartTLS: " + err.Error()))
		}
		p.SendLine([]byte("WELCOME")) // before the handshake completed: sent encrypted after it
		return
	}
	_, tlsOn := tlsproto.ConnectionState(p.Transport())
	if tlsOn {
		p.SendLine(append([]byte("secure "), line...))
	} else {
		p.SendLine(append([]byte("clear "), line...))
	}
}

func (p *starttls) HandshakeCompleted() {
	p.ev.mu.Lock()
	p.ev.hs++
	p.ev.mu.Unlock()
}

func (p *starttls) ConnectionLost(reason error) { p.ev.lostCh <- reason }

func TestStartTLS(t *testing.T) {
	certs := testCerts(t)
	ev := newTLSEvents()
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, factory.ForProtocol(func() protocol.Protocol { return &starttls{cfg: certs.ServerConfig(), ev: ev} }))
	running(t, r)
	c := dial(t, p)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	c.Write([]byte("hello\r\nSTARTTLS\r\n"))
	for _, want := range []string{"clear hello\r\n", "GO AHEAD\r\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Fatalf("got %q, %v; want %q", line, err, want)
		}
	}
	if br.Buffered() != 0 {
		t.Fatalf("%d bytes after GO AHEAD before the handshake", br.Buffered())
	}
	tc := tls.Client(c, certs.ClientConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	tbr := bufio.NewReader(tc)
	if line, err := tbr.ReadString('\n'); line != "WELCOME\r\n" {
		t.Fatalf("first line over TLS %q, %v", line, err)
	}
	tc.Write([]byte("hello\r\n"))
	if line, err := tbr.ReadString('\n'); line != "secure hello\r\n" {
		t.Fatalf("got %q, %v", line, err)
	}
	if _, hs, _ := ev.snapshot(); hs != 1 {
		t.Fatalf("HandshakeCompleted %d times", hs)
	}
	tc.Close()
	waitTLSLost(t, ev)
}

// TestStartTLSClient starts TLS from a client connection, against a Go
// server that reads a line in clear first.
func TestStartTLSClient(t *testing.T) {
	certs := testCerts(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Read the line a byte at a time: the ClientHello follows at once.
		var line []byte
		b := make([]byte, 1)
		for len(line) == 0 || line[len(line)-1] != '\n' {
			if _, err := c.Read(b); err != nil {
				return
			}
			line = append(line, b[0])
		}
		if string(line) != "STARTTLS\r\n" {
			return
		}
		tc := tls.Server(c, certs.ServerConfig())
		io.Copy(tc, tc)
		tc.Close()
	}()
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	if _, err := r.ConnectTCP(context.Background(), ln.Addr().String(), f); err != nil {
		t.Fatal(err)
	}
	tr := <-f.made
	tr.Write([]byte("STARTTLS\r\n"))
	if err := tr.StartTLS(certs.ClientConfig(), false); err != nil { // off the loop: queued to it
		t.Fatal(err)
	}
	tr.Write([]byte("encrypted")) // held until the handshake completed
	if got := <-f.got; got != "encrypted" {
		t.Fatalf("got %q", got)
	}
	if st, ok := tlsproto.ConnectionState(tr); !ok || st.Version == 0 {
		t.Fatalf("state %v %+v", ok, st)
	}
	tr.LoseConnection()
	waitErr(t, f.lost, "ClientConnectionLost")
}

// tlsPausing pauses its transport when told, and records what it receives.
type tlsPausing struct {
	protocol.Base
	got chan int
}

func (p *tlsPausing) ConnectionMade()          { p.Transport().PauseProducing() }
func (p *tlsPausing) DataReceived(data []byte) { p.got <- len(data) }

func TestTLSPauseStopsTheSocket(t *testing.T) {
	certs := testCerts(t)
	r := reactor.New(reactor.WithLoops(1))
	got := make(chan int, 1<<16)
	f := factory.ForProtocol(func() protocol.Protocol { return &tlsPausing{got: got} })
	p := listenTLS(t, r, f, certs.ServerConfig(), reactor.WithReadBufferSize(64<<10))
	running(t, r)
	c := dialTLS(t, p, certs.ClientConfig())
	// The server reads nothing while paused: the client's writes stop once
	// the kernel buffers are full.
	chunk := make([]byte, 64<<10)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	written := 0
	for written < 64<<20 {
		n, err := c.Write(chunk)
		written += n
		if err != nil {
			break
		}
	}
	if written >= 64<<20 {
		t.Fatalf("wrote %d bytes to a paused TLS connection", written)
	}
	select {
	case n := <-got:
		t.Fatalf("a paused protocol received %d bytes", n)
	default:
	}
}

// TestHAProxyBeforeTLS: on a haproxy:ssl: endpoint the PROXY header comes
// in the clear and TLS after it, as HAProxy sends them; the protocol sees
// the client's address and plaintext.
func TestHAProxyBeforeTLS(t *testing.T) {
	certs := testCerts(t)
	files, err := certs.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := reactor.New(reactor.WithLoops(1))
	peers := make(chan net.Addr, 1)
	f := factory.ForProtocol(func() protocol.Protocol { return &peerEcho{peers: peers} })
	desc := "haproxy:ssl:0:interface=127.0.0.1:privateKey=" + files["server.key"] + ":certKey=" + files["server.pem"]
	p, err := r.Listen(desc, f)
	if err != nil {
		t.Fatal(err)
	}
	running(t, r)
	raw, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte("PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n")); err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, certs.ClientConfig())
	c.SetDeadline(time.Now().Add(5 * time.Second))
	roundTrip(t, c, "through HAProxy and TLS")
	select {
	case a := <-peers:
		if a.String() != "203.0.113.7:40000" {
			t.Fatalf("RemoteAddr %v, want the proxied client", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no protocol made")
	}
}

// peerEcho echoes and reports its RemoteAddr from ConnectionMade.
type peerEcho struct {
	protocol.Base
	peers chan net.Addr
}

func (e *peerEcho) ConnectionMade()          { e.peers <- e.Transport().RemoteAddr() }
func (e *peerEcho) DataReceived(data []byte) { e.Transport().Write(data) }
