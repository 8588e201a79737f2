package reactor_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

func TestPanicAbortsOnlyThatConnection(t *testing.T) {
	f := newRecorderFactory(func(p *recorder, data []byte) {
		if string(data) == "panic" {
			panic("boom")
		}
		p.Transport().Write(data)
	})
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	running(t, r)
	const n = 100
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, p)
		f.transport(t)
		roundTrip(t, conns[i], "before")
	}
	bad := dial(t, p)
	f.transport(t)
	bad.Write([]byte("panic"))
	reason := f.reason(t)
	var pe *transport.PanicError
	if !errors.Is(reason, transport.ErrConnectionAborted) || !errors.As(reason, &pe) || pe.Value != "boom" {
		t.Fatalf("reason %v, want ErrConnectionAborted wrapping PanicError(boom)", reason)
	}
	if len(pe.Stack) == 0 {
		t.Error("PanicError without a stack")
	}
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bad.Read(make([]byte, 1)); err == nil {
		t.Error("panicking connection still open")
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roundTrip(t, c, fmt.Sprintf("after %d", i))
		}()
	}
	wg.Wait()
}

// goid returns the current goroutine's id, from its stack header.
func goid() uint64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	id, _ := strconv.ParseUint(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

func TestConnectionTimersRunOnTheConnectionsLoop(t *testing.T) {
	type result struct{ data, timer, soon, then uint64 }
	results := make(chan result, 16)
	f := newRecorderFactory(func(p *recorder, data []byte) {
		var res result
		res.data = goid()
		loop := p.Transport().Loop()
		var mu sync.Mutex
		var pending sync.WaitGroup
		pending.Add(3)
		loop.CallLater(5*time.Millisecond, func() { mu.Lock(); res.timer = goid(); mu.Unlock(); pending.Done() })
		loop.CallSoon(func() { mu.Lock(); res.soon = goid(); mu.Unlock(); pending.Done() })
		loop.DeferToGoroutine(func() (any, error) { return goid(), nil }, func(worker any, err error) {
			mu.Lock()
			if worker.(uint64) != res.data {
				res.then = goid()
			}
			mu.Unlock()
			pending.Done()
		})
		go func() { pending.Wait(); mu.Lock(); results <- res; mu.Unlock() }()
	})
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	running(t, r)
	for i := 0; i < 6; i++ {
		c := dial(t, p)
		f.transport(t)
		c.Write([]byte("x"))
		select {
		case res := <-results:
			if res.timer != res.data || res.soon != res.data || res.then != res.data {
				t.Fatalf("DataReceived on goroutine %d, timer on %d, CallSoon on %d, DeferToGoroutine's then on %d",
					res.data, res.timer, res.soon, res.then)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("callbacks did not run")
		}
	}
}

func TestTimerPanicAbortsConnection(t *testing.T) {
	f := newRecorderFactory(func(p *recorder, data []byte) {
		p.Transport().Loop().CallLater(0, func() { panic("in timer") })
	})
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	f.transport(t)
	c.Write([]byte("x"))
	var pe *transport.PanicError
	if reason := f.reason(t); !errors.As(reason, &pe) || pe.Value != "in timer" {
		t.Fatalf("reason %v, want a PanicError from the timer", reason)
	}
	roundTrip(t, dial(t, listen(t, r, echoFactory())), "reactor still serves")
}

// TestEMFILE runs an echo server in a child process whose descriptor limit is
// low, fills it, and checks that the open connections keep working and that
// new ones are accepted once descriptors are free again.
func TestEMFILE(t *testing.T) {
	if os.Getenv("WHIRL_EMFILE_CHILD") == "1" {
		emfileChild()
		return
	}
	if testing.Short() {
		t.Skip("subprocess test")
	}
	addr := emfileServer(t, os.Stderr)

	// Open more connections than the child has descriptors.
	conns := dialMany(t, addr, 80)
	served := func(c net.Conn, wait time.Duration) bool {
		c.SetDeadline(time.Now().Add(wait))
		if _, err := c.Write([]byte("ping")); err != nil {
			return false
		}
		buf := make([]byte, 4)
		_, err := readFull(c, buf)
		return err == nil && string(buf) == "ping"
	}
	// The first connections are served; later ones wait in the backlog.
	if !served(conns[0], 5*time.Second) || !served(conns[10], 5*time.Second) {
		t.Fatal("early connections not served")
	}
	waiting := conns[len(conns)-1]
	if served(waiting, 300*time.Millisecond) {
		t.Fatal("the last connection was served: the limit did not bite")
	}
	// Free descriptors: the waiting connection gets accepted and served, and
	// the early ones still work.
	for _, c := range conns[1 : len(conns)-1] {
		if c != conns[10] {
			c.Close()
		}
	}
	waiting.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4)
	if _, err := readFull(waiting, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("waiting connection after descriptors were freed: %q, %v", buf, err)
	}
	if !served(conns[0], 5*time.Second) || !served(conns[10], 5*time.Second) {
		t.Fatal("early connections stopped working")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial after recovery: %v", err)
	}
	defer c.Close()
	if !served(c, 10*time.Second) {
		t.Fatal("new connection after recovery not served")
	}
}

// emfileServer starts the echo server of emfileChild in a child process,
// with extraEnv, its standard error going to stderr, and returns its address.
// The child stops (its stdin closes) when the test ends.
func emfileServer(t *testing.T, stderr io.Writer, extraEnv ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEMFILE$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), "WHIRL_EMFILE_CHILD=1"), extraEnv...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("child: %v", err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("child did not exit")
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child address: %v", err)
	}
	return strings.TrimSpace(line)
}

// dialMany opens n connections to addr; they close when the test ends.
func dialMany(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	return conns
}

func emfileChild() {
	lim := syscall.Rlimit{Cur: 48, Max: 48}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(3)
	}
	var opts []reactor.Option
	if os.Getenv("WHIRL_EMFILE_LOG") != "" {
		opts = append(opts, reactor.WithLogger(zerolog.New(os.Stderr)))
	}
	r := reactor.New(append(opts, reactor.WithLoops(2))...)
	p, err := r.ListenTCP("127.0.0.1:0", echoFactory())
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(3)
	}
	go func() {
		// Stop when the parent closes stdin.
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		r.Stop(ctx)
	}()
	fmt.Println(p.Addr().String())
	if err := r.Run(backgroundContext()); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		os.Exit(3)
	}
	os.Exit(0)
}
