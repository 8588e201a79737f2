package reactor_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/reactor"
)

// fileOf returns the listener's socket as a file, closed when the test ends.
func fileOf(t *testing.T, ln interface{ File() (*os.File, error) }) *os.File {
	t.Helper()
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// nonblocking reports whether f's socket is in non-blocking mode, read
// without f.Fd() (which would change it).
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	return flags&unix.O_NONBLOCK != 0
}

func TestListenFileTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := fileOf(t, ln.(*net.TCPListener))
	_ = f.Fd() // puts the socket in blocking mode: ListenFile must undo it
	if nonblocking(t, f) {
		t.Fatal("f.Fd() left the socket non-blocking; the test checks nothing")
	}

	r := reactor.New(reactor.WithLoops(1))
	p, err := r.ListenFile(f, echoFactory(), reactor.WithBacklog(16))
	if err != nil {
		t.Fatalf("ListenFile: %v", err)
	}
	if !nonblocking(t, f) {
		t.Error("ListenFile left the socket in blocking mode")
	}
	if got, want := p.Addr().String(), ln.Addr().String(); got != want {
		t.Errorf("Addr: got %s, want %s", got, want)
	}
	f.Close() // the port has its own descriptor
	running(t, r)

	// Each connection is accepted by whichever descriptor's owner calls
	// accept first: the reactor is the only one that does here.
	for range 3 {
		roundTrip(t, dial(t, p), "hello")
	}
	if got := r.Stats().Accepted; got != 3 {
		t.Errorf("Accepted: got %d, want 3", got)
	}

	// StopListening closes the port's descriptor only: the socket stays
	// open through ln, which now gets the connections.
	if err := p.StopListening(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial after StopListening: %v", err)
	}
	defer c.Close()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	a, err := ln.Accept()
	if err != nil {
		t.Fatalf("the original listener: %v", err)
	}
	a.Close()
}

func TestListenFileUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	f := fileOf(t, ln.(*net.UnixListener))
	ln.Close() // the file keeps the socket open

	r := reactor.New(reactor.WithLoops(1))
	p, err := r.ListenFile(f, echoFactory())
	if err != nil {
		t.Fatalf("ListenFile: %v", err)
	}
	running(t, r)
	if got := p.Addr().String(); got != path {
		t.Errorf("Addr: got %s, want %s", got, path)
	}
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, "over unix")
	if err := p.StopListening(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("StopListening removed the socket file it did not bind: %v", err)
	}
}

func TestListenFileErrors(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	udpFile := fileOf(t, udp.(*net.UDPConn))

	// A connected TCP socket is a stream socket, but not listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connFile := fileOf(t, conn.(*net.TCPConn))

	tests := []struct {
		name string
		f    *os.File
		want error // nil: any error
	}{
		{"regular file", regular, reactor.ErrNotListening},
		{"udp socket", udpFile, reactor.ErrNotListening},
		{"connected tcp socket", connFile, reactor.ErrNotListening},
		{"nil file", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reactor.New(reactor.WithLoops(1))
			defer r.Stop(backgroundContext())
			p, err := r.ListenFile(tt.f, echoFactory())
			if err == nil {
				p.StopListening()
				t.Fatal("ListenFile: no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ListenFile: %v, want %v", err, tt.want)
			}
			if got := len(r.Stats().Ports); got != 0 {
				t.Errorf("%d ports after a failed ListenFile", got)
			}
		})
	}

	t.Run("nil factory", func(t *testing.T) {
		r := reactor.New(reactor.WithLoops(1))
		defer r.Stop(backgroundContext())
		if _, err := r.ListenFile(udpFile, nil); err == nil {
			t.Error("ListenFile with a nil factory: no error")
		}
	})
	t.Run("stopped reactor", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		r := reactor.New(reactor.WithLoops(1))
		r.Stop(backgroundContext())
		if _, err := r.ListenFile(fileOf(t, ln.(*net.TCPListener)), echoFactory()); !errors.Is(err, reactor.ErrStopped) {
			t.Errorf("ListenFile after Stop: %v, want ErrStopped", err)
		}
	})
}
