package seedserver_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/examples/seedserver/seedserver"
	"github.com/whirl-go/whirl/reactor"
)

// recorder is a subclass of the seed's server that records its calls.
type recorder struct {
	seedserver.TCPServer
	mu     sync.Mutex
	events []string
	data   bytes.Buffer
	max    int // the largest chunk
	closed chan struct{}
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) StartFactory() { r.add("StartFactory") }
func (r *recorder) StopFactory()  { r.add("StopFactory") }
func (r *recorder) OnConnect(conn seedserver.Conn) {
	r.add("OnConnect")
	r.TCPServer.OnConnect(conn) // the seed's: read until close
}
func (r *recorder) HandleStream(conn seedserver.Conn, buff []byte) {
	r.mu.Lock()
	r.data.Write(buff)
	r.max = max(r.max, len(buff))
	r.mu.Unlock()
}
func (r *recorder) OnClose(conn seedserver.Conn) {
	r.add("OnClose " + conn.GetAddress().Network())
	close(r.closed)
}

func TestSeedServerCalls(t *testing.T) {
	rc := reactor.New(reactor.WithLoops(2))
	srv := &recorder{closed: make(chan struct{})}
	srv.Init(srv, rc, zerolog.Nop(), "tcp:0:interface=127.0.0.1", nil, seedserver.Kwargs{"chunk_size": 3})
	addr, err := srv.Start(16)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- rc.Run(ctx) }()

	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("some bytes, ", 100)
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-srv.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose did not run")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.data.String() != msg {
		t.Errorf("HandleStream got %q, want %q", srv.data.String(), msg)
	}
	if srv.max > 3 {
		t.Errorf("a chunk of %d bytes with chunk_size 3", srv.max)
	}
	want := []string{"StartFactory", "OnConnect", "OnClose tcp", "StopFactory"}
	if strings.Join(srv.events, ",") != strings.Join(want, ",") {
		t.Errorf("calls %q, want %q", srv.events, want)
	}
}

func TestRun(t *testing.T) {
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- seedserver.Run(ctx, "seedserver", []string{"--listen", "tcp:0:interface=127.0.0.1"}, &stderr, logs, func(a net.Addr) { ready <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run = %v (%s)", err, &stderr)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10 s")
	}
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	in := "Hello, seed! \xc3\xa9t\xc3\xa9\n"
	if _, err := io.WriteString(c, in); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(in))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if want := "HELLO, SEED! \xc3\xa9T\xc3\xa9\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c.Close()
	time.Sleep(100 * time.Millisecond) // let the close be logged
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return 15 s after its context ended")
	}
	log, _ := os.ReadFile(logs.Name())
	for _, m := range []string{`"listening"`, `"factory started"`, `"connected"`, `"closed"`, `"factory stopped"`, `"stopped"`, addr.String()} {
		if !bytes.Contains(log, []byte(m)) {
			t.Errorf("log lacks %s:\n%s", m, log)
		}
	}
}
