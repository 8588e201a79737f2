package reactor_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

func TestUnixServerAndClient(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	running(t, r)
	path := filepath.Join(t.TempDir(), "echo.sock")
	p, err := r.ListenUnix(path, echoFactory(), 0o660)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket file mode %v, want a socket with 0660", fi.Mode())
	}
	if p.Addr().Network() != "unix" || p.Addr().String() != path {
		t.Fatalf("Addr %v %v", p.Addr().Network(), p.Addr())
	}

	// A whirl client.
	f := newClientRecorder()
	if _, err := r.ConnectUnix(context.Background(), path, f); err != nil {
		t.Fatal(err)
	}
	tr := <-f.made
	if ra, ok := tr.RemoteAddr().(*net.UnixAddr); !ok || ra.Name != path {
		t.Fatalf("client RemoteAddr %#v", tr.RemoteAddr())
	}
	tr.Write([]byte("over unix"))
	if got := <-f.got; got != "over unix" {
		t.Fatalf("echo %q", got)
	}

	// The server side's RemoteAddr names the peer process.
	peers := make(chan net.Addr, 1)
	pp, err := r.ListenUnix(filepath.Join(t.TempDir(), "peer.sock"), factoryFunc(func(a net.Addr) { peers <- a }), 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", pp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := <-peers
	up, ok := peer.(*reactor.UnixPeer)
	if !ok || up.Network() != "unix" {
		t.Fatalf("server RemoteAddr %#v", peer)
	}
	if up.PID != 0 && up.PID != os.Getpid() {
		t.Fatalf("peer PID %d, want %d", up.PID, os.Getpid())
	}
	if up.String() == "" {
		t.Fatal("empty peer address")
	}

	if err := p.StopListening(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after StopListening: %v", err)
	}
}

func TestUnixAbstract(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	name := "@whirl-test-" + strconv.Itoa(os.Getpid())
	if _, err := r.ListenUnix(name, echoFactory(), 0); err != nil {
		t.Fatal(err)
	}
	f := newClientRecorder()
	if _, err := r.Connect(context.Background(), "unix:"+name, f); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-f.made:
		tr.Write([]byte("abstract"))
	case err := <-f.failed:
		t.Fatal(err)
	}
	if got := <-f.got; got != "abstract" {
		t.Fatalf("echo %q", got)
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	return cmd.Process.Pid
}

// TestUnixStaleSocketReplaced: a socket file and lock left by a dead process
// are replaced; a lock held by a live process refuses the listen.
func TestUnixStaleSocketReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sock")
	// What a crashed server leaves: its socket file and its lock.
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if err := os.Symlink(strconv.Itoa(deadPID(t)), path+".lock"); err != nil {
		t.Fatal(err)
	}

	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	// Without the lock, the stale file makes the bind fail, as in Twisted.
	if _, err := r.ListenUnix(path, echoFactory(), 0); err == nil {
		t.Fatal("listen over an existing socket file without the lock: no error")
	}
	p, err := r.Listen("unix:"+path, echoFactory()) // lockfile=1 by default
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	if target, err := os.Readlink(path + ".lock"); err != nil || target != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock %q %v, want our PID", target, err)
	}
	// A second server while this one lives: refused.
	if _, err := r.Listen("unix:"+path, echoFactory()); !errors.Is(err, reactor.ErrLocked) {
		t.Fatalf("second listen: %v, want ErrLocked", err)
	}
	// checkPID: a client connects only while a live process holds the lock.
	f := newClientRecorder()
	if _, err := r.Connect(context.Background(), "unix:path="+path+":checkPID=1", f); err != nil {
		t.Fatal(err)
	}
	<-f.made
	if err := p.StopListening(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + ".lock"} {
		if _, err := os.Lstat(name); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after StopListening: %v", name, err)
		}
	}
	f2 := newClientRecorder()
	if _, err := r.Connect(context.Background(), "unix:path="+path+":checkPID=1", f2); err != nil {
		t.Fatal(err)
	}
	if reason := waitErr(t, f2.failed, "ClientConnectionFailed"); !errors.Is(reason, transport.ErrConnectFailed) {
		t.Fatalf("checkPID without a server: %v", reason)
	}
}

func TestUnixConnectMissing(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	f := newClientRecorder()
	if _, err := r.ConnectUnix(context.Background(), filepath.Join(t.TempDir(), "none.sock"), f); err != nil {
		t.Fatal(err)
	}
	reason := waitErr(t, f.failed, "ClientConnectionFailed")
	if !errors.Is(reason, transport.ErrConnectFailed) || !errors.Is(reason, os.ErrNotExist) {
		t.Fatalf("reason %v", reason)
	}
	waitEvents(t, f, "start connecting failed stop")
}

// factoryFunc is an echo factory that tells fn each peer address.
type factoryFunc func(net.Addr)

func (f factoryFunc) BuildProtocol(a net.Addr) protocol.Protocol { f(a); return &echo{} }
func (factoryFunc) StartFactory()                                {}
func (factoryFunc) StopFactory()                                 {}

// TestUnixZombieLockIsStale: the lock of a process that exited but was not
// reaped yet (a crash a moment ago) is stale.
func TestUnixZombieLockIsStale(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	pid := cmd.Process.Pid
	defer cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		if strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	path := filepath.Join(t.TempDir(), "z.sock")
	if err := os.Symlink(strconv.Itoa(pid), path+".lock"); err != nil {
		t.Fatal(err)
	}
	r := reactor.New(reactor.WithLoops(1))
	running(t, r)
	if _, err := r.ListenUnix(path, echoFactory(), 0, reactor.WithUnixLock(true)); err != nil {
		t.Fatalf("listen with a zombie's lock: %v", err)
	}
}
