package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// clientRecorder is a ClientFactory that records its callbacks in order, and
// checks that they (and its protocols' callbacks) all run on one goroutine.
type clientRecorder struct {
	mu     sync.Mutex
	events []string
	gid    uint64
	wrong  []string

	onFailed func(c factory.Connector, reason error)
	onLost   func(c factory.Connector, reason error)
	build    func() protocol.Protocol

	failed chan error
	lost   chan error
	made   chan transport.Transport
	got    chan string
}

func newClientRecorder() *clientRecorder {
	return &clientRecorder{failed: make(chan error, 8), lost: make(chan error, 8), made: make(chan transport.Transport, 8), got: make(chan string, 64)}
}

func (f *clientRecorder) note(ev string, loop bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	if !loop {
		return
	}
	if f.gid == 0 {
		f.gid = goid()
	} else if g := goid(); g != f.gid {
		f.wrong = append(f.wrong, ev)
	}
}

func (f *clientRecorder) Events() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.events, " ")
}

func (f *clientRecorder) StartFactory() { f.note("start", true) }
func (f *clientRecorder) StopFactory()  { f.note("stop", true) }
func (f *clientRecorder) StartedConnecting(factory.Connector) {
	f.note("connecting", true)
}

func (f *clientRecorder) BuildProtocol(net.Addr) protocol.Protocol {
	f.note("build", true)
	if f.build != nil {
		return f.build()
	}
	return &clientProto{f: f}
}

func (f *clientRecorder) ClientConnectionFailed(c factory.Connector, reason error) {
	f.note("failed", true)
	f.failed <- reason
	if f.onFailed != nil {
		f.onFailed(c, reason)
	}
}

func (f *clientRecorder) ClientConnectionLost(c factory.Connector, reason error) {
	f.note("lost", true)
	f.lost <- reason
	if f.onLost != nil {
		f.onLost(c, reason)
	}
}

type clientProto struct {
	protocol.Base
	f *clientRecorder
}

func (p *clientProto) ConnectionMade() {
	p.f.note("made", true)
	p.f.made <- p.Transport()
}

func (p *clientProto) DataReceived(data []byte) {
	p.f.note("data", true)
	p.f.got <- string(data)
}

func (p *clientProto) ConnectionLost(error) { p.f.note("connectionLost", true) }

func waitErr(t *testing.T, ch chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
	return nil
}

func waitEvents(t *testing.T, f *clientRecorder, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.Events() != want {
		if time.Now().After(deadline) {
			t.Fatalf("events %q, want %q", f.Events(), want)
		}
		time.Sleep(time.Millisecond)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.wrong) > 0 {
		t.Fatalf("callbacks %v ran off the connector's loop", f.wrong)
	}
}

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestConnectTCPEcho(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	running(t, r)
	p := listen(t, r, echoFactory())
	f := newClientRecorder()
	cn, err := r.ConnectTCP(context.Background(), p.Addr().String(), f)
	if err != nil {
		t.Fatal(err)
	}
	if cn.Destination().String() != p.Addr().String() {
		t.Fatalf("Destination %v, want %v", cn.Destination(), p.Addr())
	}
	tr := <-f.made
	if tr.RemoteAddr().String() != p.Addr().String() {
		t.Fatalf("RemoteAddr %v, want %v", tr.RemoteAddr(), p.Addr())
	}
	if la, ok := tr.LocalAddr().(*net.TCPAddr); !ok || la.Port == 0 || !la.IP.IsLoopback() {
		t.Fatalf("LocalAddr %v", tr.LocalAddr())
	}
	tr.Write([]byte("hello"))
	var got string
	for got != "hello" {
		select {
		case s := <-f.got:
			got += s
		case <-time.After(10 * time.Second):
			t.Fatalf("echo: got %q", got)
		}
	}
	cn.Disconnect()
	reason := waitErr(t, f.lost, "ClientConnectionLost")
	if !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("lost reason %v", reason)
	}
	waitEvents(t, f, "start connecting build made data connectionLost lost stop")
}

func TestConnectRefused(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	addr := freePort(t)
	if _, err := r.ConnectTCP(context.Background(), addr, f); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrConnectionRefused) || !errors.Is(reason, transport.ErrConnectFailed) || !errors.Is(reason, unix.ECONNREFUSED) {
		t.Fatalf("reason %v: want ErrConnectionRefused, ErrConnectFailed, ECONNREFUSED", reason)
	}
	var ce *reactor.ConnectError
	if !errors.As(reason, &ce) || ce.Addr != addr {
		t.Fatalf("reason %#v: want a *ConnectError for %s", reason, addr)
	}
	waitEvents(t, f, "start connecting failed stop")
}

func TestConnectDNSFailure(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	cn, err := r.ConnectTCP(context.Background(), "no-such-host.invalid:80", f)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := cn.Destination().(*factory.HostAddr); !ok || d.Host != "no-such-host.invalid" || d.Port != 80 {
		t.Fatalf("Destination %#v", cn.Destination())
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrDNSLookup) || !errors.Is(reason, transport.ErrConnectFailed) {
		t.Fatalf("reason %v: want ErrDNSLookup", reason)
	}
	waitEvents(t, f, "start connecting failed stop")
}

// fullListener returns the address of a listening socket whose accept queue
// is full, so that a new connect waits for ever.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	// Fill the queue: connects that complete but are never accepted.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill a listen queue on this system")
	return ""
}

func TestConnectTimeout(t *testing.T) {
	addr := fullListener(t)
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	start := time.Now()
	if _, err := r.ConnectTCP(context.Background(), addr, f, reactor.WithConnectTimeout(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrTimeout) {
		t.Fatalf("reason %v: want ErrTimeout", reason)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("timed out after %v, before the timeout", d)
	}
	waitEvents(t, f, "start connecting failed stop")
}

func TestStopConnectingAndContext(t *testing.T) {
	addr := fullListener(t)
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)

	f := newClientRecorder()
	cn, err := r.ConnectTCP(context.Background(), addr, f)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	cn.StopConnecting()
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrUserCancelled) {
		t.Fatalf("StopConnecting: reason %v", reason)
	}
	waitEvents(t, f, "start connecting failed stop")

	f2 := newClientRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.ConnectTCP(ctx, addr, f2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	reason = waitErr(t, f2.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrUserCancelled) || !errors.Is(reason, context.Canceled) {
		t.Fatalf("ctx: reason %v", reason)
	}
}

// TestReconnectInCallbackKeepsFactoryStarted: a factory that connects again
// from ClientConnectionFailed is not stopped in between (Twisted's rule).
func TestReconnectInCallbackKeepsFactoryStarted(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	tries := 0
	f.onFailed = func(c factory.Connector, _ error) {
		if tries++; tries < 3 {
			c.Connect()
		}
	}
	if _, err := r.ConnectTCP(context.Background(), freePort(t), f); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, f, "start connecting failed connecting failed connecting failed stop")
}

// TestReconnectAfterServerRestart: a client that retries after losing its
// connection gets a new one when the server comes back on the same port.
func TestReconnectAfterServerRestart(t *testing.T) {
	server := reactor.New(reactor.WithLoops(1))
	running(t, server)
	p := listen(t, server, echoFactory())
	addr := p.Addr().String()

	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	retry := func(c factory.Connector, _ error) {
		c.Clock().CallLater(20*time.Millisecond, c.Connect)
	}
	f.onFailed, f.onLost = retry, retry
	if _, err := r.ConnectTCP(context.Background(), addr, f); err != nil {
		t.Fatal(err)
	}
	(<-f.made).Write([]byte("ping")) // the echo proves the server runs
	if got := <-f.got; got != "ping" {
		t.Fatalf("echo %q", got)
	}
	// The server goes away: its connections close, the client retries and is
	// refused until the server is back.
	if err := p.StopListening(); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	waitErr(t, f.lost, "ClientConnectionLost")
	waitErr(t, f.failed, "a refused retry")

	server2 := reactor.New(reactor.WithLoops(1))
	running(t, server2)
	if _, err := server2.ListenTCP(addr, echoFactory()); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-f.made:
		tr.Write([]byte("again"))
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnection")
	}
	select {
	case got := <-f.got:
		if got != "again" {
			t.Fatalf("echo %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no echo after reconnecting")
	}
}

func TestConnectBuildProtocolNil(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	p := listen(t, r, echoFactory())
	f := newClientRecorder()
	f.build = func() protocol.Protocol { return nil }
	if _, err := r.ConnectTCP(context.Background(), p.Addr().String(), f); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrConnectFailed) {
		t.Fatalf("reason %v", reason)
	}
	waitEvents(t, f, "start connecting build failed stop")
}

func TestConnectBadAddress(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	for _, addr := range []string{"nohostport", ":80", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:nosuchservice"} {
		if _, err := r.ConnectTCP(context.Background(), addr, newClientRecorder()); err == nil {
			t.Errorf("ConnectTCP(%q): no error", addr)
		}
	}
	if _, err := r.ConnectTCP(context.Background(), "127.0.0.1:80", newClientRecorder(), reactor.WithLoops(2)); !errors.Is(err, reactor.ErrReactorOption) {
		t.Errorf("WithLoops on a connector: %v, want ErrReactorOption", err)
	}
}

// TestConnectBeforeRun: a connector made before Run connects once Run starts.
func TestConnectBeforeRun(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, echoFactory())
	f := newClientRecorder()
	if _, err := r.ConnectTCP(context.Background(), p.Addr().String(), f); err != nil {
		t.Fatal(err)
	}
	running(t, r)
	select {
	case <-f.made:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
}

// TestStopCancelsAttemptsAndClosesClients: Stop fails a connect in progress
// with ErrUserCancelled, closes client connections, and stops the factories.
func TestStopCancelsAttemptsAndClosesClients(t *testing.T) {
	addr := fullListener(t)
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	p := listen(t, r, echoFactory())
	pending, up := newClientRecorder(), newClientRecorder()
	if _, err := r.ConnectTCP(context.Background(), addr, pending); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ConnectTCP(context.Background(), p.Addr().String(), up); err != nil {
		t.Fatal(err)
	}
	<-up.made
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, pending.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrUserCancelled) || !errors.Is(reason, reactor.ErrStopped) {
		t.Fatalf("pending: reason %v", reason)
	}
	waitEvents(t, pending, "start connecting failed stop")
	waitEvents(t, up, "start connecting build made connectionLost lost stop")
	if _, err := r.ConnectTCP(context.Background(), addr, newClientRecorder()); !errors.Is(err, reactor.ErrStopped) {
		t.Fatalf("ConnectTCP after Stop: %v", err)
	}
}

func TestConnectBindAddress(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	p := listen(t, r, echoFactory())
	local := freePort(t)
	f := newClientRecorder()
	if _, err := r.ConnectTCP(context.Background(), p.Addr().String(), f, reactor.WithBindAddress(local)); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-f.made:
		if tr.LocalAddr().String() != local {
			t.Fatalf("LocalAddr %v, want %v", tr.LocalAddr(), local)
		}
	case reason := <-f.failed:
		t.Fatalf("failed: %v", reason)
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
}
