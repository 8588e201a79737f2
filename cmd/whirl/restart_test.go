//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// buildWhirl builds this command into a temporary directory.
func buildWhirl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "whirl")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// logLines reads the JSON lines of a log that several processes write.
func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("log line %q: %v", sc.Text(), err)
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// waitLog waits for a log line with message msg written by pid.
func waitLog(t *testing.T, path string, pid int, msg string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, l := range readLog(t, path) {
			if l["message"] == msg && l["pid"] == float64(pid) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line from process %d within %v", msg, pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID returns the PID in the file, or 0.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// exited reports whether process pid has exited (a zombie has).
func exited(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
}

func waitExited(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !exited(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs %v later", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load is a load generator: clients that each connect, send a random
// payload, check that the echo is the same bytes, and close, again and
// again.
type load struct {
	addr      string
	exchanges atomic.Int64
	bytes     atomic.Int64
	mu        sync.Mutex
	errs      []error
	stop      chan struct{}
	wg        sync.WaitGroup
}

func startLoad(addr string, clients int) *load {
	l := &load{addr: addr, stop: make(chan struct{})}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				if err := l.exchange(rng); err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, err)
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

func (l *load) exchange(rng *rand.Rand) error {
	c, err := net.DialTimeout("tcp", l.addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	payload := make([]byte, 1+rng.IntN(32<<10))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	errc := make(chan error, 1)
	go func() {
		for rest := payload; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(4096))
			if _, err := c.Write(rest[:n]); err != nil {
				errc <- fmt.Errorf("write: %w", err)
				return
			}
			rest = rest[n:]
		}
		errc <- nil
	}()
	got := make([]byte, len(payload))
	_, rerr := io.ReadFull(c, got)
	if err := <-errc; err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("read the echo of %d bytes: %w", len(payload), rerr)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("the echo of %d bytes differs", len(payload))
	}
	l.exchanges.Add(1)
	l.bytes.Add(int64(len(payload)))
	return nil
}

func (l *load) finish() []error {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs
}

// TestRestartUnderLoad runs whirl echo with --pid-file, restarts it three
// times with SIGHUP while clients keep exchanging data, and checks that no
// connection was refused, no byte lost or changed, and every old process
// exited.
func TestRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds whirl and restarts it under load")
	}
	bin := buildWhirl(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "whirl.pid")
	logPath := filepath.Join(dir, "log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()

	notify := listenNotify(t, filepath.Join(dir, "notify"))
	cmd := exec.Command(bin, "echo", "--listen", "tcp:0:interface=127.0.0.1", "--pid-file", pidFile,
		"--metrics", "127.0.0.1:0", "--log-format", "json", "--loops", "2", "--stop-timeout", "5s", "--max-per-ip", "0")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify.path)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the restarted processes join its group
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := cmd.Process.Pid
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-first, syscall.SIGKILL) // every process of the group left
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log:\n%s", b)
		}
	})

	started := waitLog(t, logPath, first, "started", 10*time.Second)
	addr, metrics := started["addr"].(string), started["metrics"].(string)
	waitLog(t, logPath, first, "ready", 5*time.Second)
	if got := readPID(pidFile); got != first {
		t.Fatalf("PID file: %d, want %d", got, first)
	}

	l := startLoad(addr, 16)
	pids := []int{first}
	var during []int64 // exchanges done by each process's end
	for i := range 3 {
		old := pids[len(pids)-1]
		time.Sleep(300 * time.Millisecond) // load on the old process
		var pid int
		for try := 0; pid == 0; try++ {
			if try == 3 {
				t.Fatalf("restart %d: the PID file still names %d after 3 SIGHUPs", i+1, old)
			}
			if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
				t.Fatalf("SIGHUP %d: %v", old, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if p := readPID(pidFile); p != 0 && p != old {
					pid = p
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		s := waitLog(t, logPath, pid, "started", time.Second)
		if s["addr"] != addr || s["metrics"] != metrics || s["restarted"] != true {
			t.Errorf("restart %d: started %v, want addr %s, metrics %s, restarted", i+1, s, addr, metrics)
		}
		if old == first {
			select {
			case err := <-waited:
				if err != nil {
					t.Errorf("the first process: %v, want exit status 0", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("the first process still runs 15s after the restart")
			}
		} else {
			waitExited(t, old, 15*time.Second)
		}
		waitLog(t, logPath, old, "drained", time.Second)
		waitLog(t, logPath, old, "stopped", time.Second)
		waitLog(t, logPath, pid, "the previous process has exited", 5*time.Second)
		during = append(during, l.exchanges.Load())
		pids = append(pids, pid)
	}
	time.Sleep(300 * time.Millisecond)
	errs := l.finish()
	for i, err := range errs {
		if i == 10 {
			t.Errorf("... %d errors in all", len(errs))
			break
		}
		t.Errorf("load: %v", err)
	}
	t.Logf("processes %v; %d exchanges, %d bytes echoed and checked; exchanges by each restart %v", pids, l.exchanges.Load(), l.bytes.Load(), during)
	prev := int64(0)
	for i, n := range during {
		if n <= prev {
			t.Errorf("no exchange between restart %d and the one before", i+1)
		}
		prev = n
	}

	// The last process serves metrics on the address the first bound.
	got := scrape(t, "http://"+metrics+"/metrics")
	if got["whirl_connections_accepted_total{}"] <= 0 {
		t.Errorf("the last process accepted nothing: %v", got["whirl_connections_accepted_total{}"])
	}

	last := pids[len(pids)-1]
	if err := syscall.Kill(last, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExited(t, last, 15*time.Second)
	waitLog(t, logPath, last, "stopped", time.Second)
	for _, line := range readLog(t, logPath) {
		if lvl := line["level"]; lvl == "error" || lvl == "warn" {
			t.Errorf("log: %v", line)
		}
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("PID file: %v", err)
	}

	// What systemd heard: each process ready with its PID, a reload per
	// restart, and a stop only at the end (not from the old processes).
	var want []string
	for i, pid := range pids {
		if i > 0 {
			want = append(want, "RELOADING=1")
		}
		want = append(want, fmt.Sprintf("READY=1\nMAINPID=%d", pid))
	}
	want = append(want, "STOPPING=1")
	deadline := time.Now().Add(5 * time.Second)
	for len(notify.messages()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := notify.messages(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sd_notify messages:\n%q\nwant:\n%q", got, want)
	}
}

// notifySocket is a stand-in for systemd's notification socket.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T, path string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: path}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return n
}

func (n *notifySocket) messages() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

// TestRestartUnixAndFailure restarts a server on a UNIX socket: a restart
// that cannot start the new process leaves the old one serving, a good one
// keeps the socket file in place, and the last process's stop removes it.
func TestRestartUnixAndFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds whirl and restarts it")
	}
	bin := buildWhirl(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "echo.sock")
	pidFile := filepath.Join(dir, "whirl.pid")
	logPath := filepath.Join(dir, "log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "echo", "--listen", "unix:"+sock+":mode=600", "--pid-file", pidFile, "--log-format", "json", "--loops", "1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := cmd.Process.Pid
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-first, syscall.SIGKILL)
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log:\n%s", b)
		}
	})
	waitLog(t, logPath, first, "ready", 10*time.Second)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket file: %v, %v; want mode 0600", fi, err)
	}
	echoOnce := func() {
		t.Helper()
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo: %q, %v", buf, err)
		}
	}
	echoOnce()

	// The binary is gone: the new process cannot start.
	moved := bin + ".away"
	if err := os.Rename(bin, moved); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(first, syscall.SIGHUP)
	failed := waitLog(t, logPath, first, "restart failed; this process keeps serving", 10*time.Second)
	if failed["level"] != "error" {
		t.Errorf("failed restart logged as %v", failed)
	}
	echoOnce()
	if got := readPID(pidFile); got != first {
		t.Errorf("PID file after a failed restart: %d, want %d", got, first)
	}

	if err := os.Rename(moved, bin); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(first, syscall.SIGHUP)
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("the first process: %v, want exit status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the first process still runs 15s after SIGHUP")
	}
	second := readPID(pidFile)
	if second == first || second == 0 {
		t.Fatalf("PID file: %d after the restart", second)
	}
	echoOnce() // the file is still there, and the new process serves it
	waitLog(t, logPath, second, "the previous process has exited", 5*time.Second)

	syscall.Kill(second, syscall.SIGTERM)
	waitExited(t, second, 15*time.Second)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after the last stop: %v, want it removed", err)
	}
}
