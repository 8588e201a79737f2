//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Errors of the server under test.
var (
	errNoAddr     = errors.New("soak: the server did not log its address")
	errServerDied = errors.New("soak: the server exited during the test")
)

// buildServer builds cmd/whirl (or, with profile, internal/soak/pprofecho)
// into dir with `go build` and returns the path of the binary. It runs in the
// current directory, which must lie inside the whirl module.
func buildServer(ctx context.Context, dir string, profile bool) (string, error) {
	pkg := "github.com/whirl-go/whirl/cmd/whirl"
	if profile {
		pkg = "github.com/whirl-go/whirl/internal/soak/pprofecho"
	}
	bin := filepath.Join(dir, path.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Stderr = os.Stderr
	cmd.Stdout = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("soak: go build %s: %w", pkg, err)
	}
	return bin, nil
}

// server is a running `whirl echo` process.
type server struct {
	cmd   *exec.Cmd
	addr  string
	pprof string // the profiler's address (pprofecho only)
	pid   int
	exit  chan error // the result of cmd.Wait, once

	mu      sync.Mutex
	closes  map[string]int // reasons of "connection closed" log lines, counted
	warns   map[string]int // warning and error messages, counted
	heapMB  int            // largest heap at a GC start, from gctrace
	gcs     int
	logTail []string // the last lines of stderr, for errors
}

// gctrace lines look like "gc 12 @0.345s 1%: ... ms cpu, 4->5->2 MB, 8 MB goal, ...".
var gcLine = regexp.MustCompile(`^gc \d+ @.*?, (\d+)->(\d+)->(\d+) MB`)

// startServer runs bin with command (a whirl subcommand and its flags, such
// as "echo") on a free loopback port, with the Go runtime's GC trace on, and
// waits until it logs the address it listens on. With profile, bin is
// pprofecho, and startServer waits for the profiler's address too.
func startServer(ctx context.Context, bin string, command, extra []string, profile bool) (*server, error) {
	args := append(slices.Clone(command), "--listen", "tcp:0:interface=127.0.0.1", "--log-level", "debug")
	if profile {
		args = append(args, "--pprof", "127.0.0.1:0")
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	// If the tool dies (Ctrl-C), the server goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Through an io.Pipe, so that Wait returns only after every line was read.
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("soak: start %s: %w", bin, err)
	}
	s := &server{
		cmd:    cmd,
		pid:    cmd.Process.Pid,
		exit:   make(chan error, 1),
		closes: make(map[string]int),
		warns:  make(map[string]int),
	}
	addrc, pprofc := make(chan string, 1), make(chan string, 1)
	go s.readLog(pr, addrc, pprofc)
	go func() {
		err := cmd.Wait()
		pw.Close()
		s.exit <- err
	}()
	timeout := time.After(30 * time.Second)
	for s.addr == "" || (profile && s.pprof == "") {
		select {
		case s.addr = <-addrc:
			continue
		case s.pprof = <-pprofc:
			continue
		case err := <-s.exit:
			s.exit <- err
			return nil, fmt.Errorf("%w before listening (%v): %s", errServerDied, err, s.tail())
		case <-timeout:
		case <-ctx.Done():
		}
		s.kill()
		return nil, fmt.Errorf("%w: %s", errNoAddr, s.tail())
	}
	return s, nil
}

// saveHeap fetches the server's heap profile, as pprof's binary format and
// as text with the runtime's memory statistics, into dir as name-heap.pb.gz
// and name-heap.txt. The server must be pprofecho.
func (s *server) saveHeap(dir, name string) error {
	for _, f := range []struct{ query, file string }{
		{"gc=1", name + "-heap.pb.gz"},
		{"debug=1", name + "-heap.txt"},
	} {
		resp, err := http.Get("http://" + s.pprof + "/debug/pprof/heap?" + f.query)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("soak: heap profile: %s", resp.Status)
		}
		if err := os.WriteFile(filepath.Join(dir, f.file), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readLog follows the server's stderr: zerolog's JSON lines and the runtime's
// gctrace lines.
func (s *server) readLog(r io.Reader, addrc, pprofc chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	defer io.Copy(io.Discard, r) // a line too long for the scanner: keep draining
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		if len(s.logTail) == 20 {
			s.logTail = s.logTail[1:]
		}
		s.logTail = append(s.logTail, line)
		s.mu.Unlock()
		if m := gcLine.FindStringSubmatch(line); m != nil {
			before, _ := strconv.Atoi(m[1])
			s.mu.Lock()
			s.gcs++
			s.heapMB = max(s.heapMB, before)
			s.mu.Unlock()
			continue
		}
		var ev struct {
			Level   string `json:"level"`
			Message string `json:"message"`
			Addr    string `json:"addr"`
			Reason  string `json:"reason"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch {
		case ev.Message == "listening" && ev.Addr != "":
			select {
			case addrc <- ev.Addr:
			default:
			}
		case ev.Message == "pprof listening" && ev.Addr != "":
			select {
			case pprofc <- ev.Addr:
			default:
			}
		case ev.Message == "connection closed":
			s.mu.Lock()
			s.closes[ev.Reason]++
			s.mu.Unlock()
		case ev.Level == "warn" || ev.Level == "error":
			key := ev.Message
			if ev.Reason != "" {
				key += " (" + ev.Reason + ")"
			}
			s.mu.Lock()
			s.warns[key]++
			s.mu.Unlock()
		}
	}
}

func (s *server) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.logTail, "\n")
}

// closeReasons returns the reasons the server logged for closed
// connections, with their counts.
func (s *server) closeReasons() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.closes))
	for k, v := range s.closes {
		m[k] = v
	}
	return m
}

// warnings returns the warning and error messages the server logged.
func (s *server) warnings() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.warns))
	for k, v := range s.warns {
		m[k] = v
	}
	return m
}

// gcHeap returns the largest heap size at the start of a GC cycle, in MB
// (gctrace's resolution), and the number of cycles.
func (s *server) gcHeap() (mb, cycles int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heapMB, s.gcs
}

// alive reports whether the server is still running.
func (s *server) alive() bool {
	select {
	case err := <-s.exit:
		s.exit <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for a graceful stop, then kills. It returns
// the exit error of the process (nil after a graceful stop).
func (s *server) stop(wait time.Duration) error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exit:
		s.exit <- err
		return err
	case <-time.After(wait):
		s.kill()
		return fmt.Errorf("soak: the server did not stop within %v; killed", wait)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	err := <-s.exit
	s.exit <- err
}

// memory is one reading of a process's /proc/PID/status.
type memory struct {
	rss int64 // VmRSS, bytes
	hwm int64 // VmHWM, the peak of VmRSS, bytes
}

// readMemory reads VmRSS and VmHWM of pid.
func readMemory(pid int) (memory, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			m.rss = n << 10
		case "VmHWM:":
			m.hwm = n << 10
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("soak: no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// sampler reads a process's resident memory at a fixed interval and keeps
// the peak, overall and since the last mark.
type sampler struct {
	pid       int
	stop      chan struct{}
	done      chan struct{}
	loadStart float64

	mu      sync.Mutex
	last    int64
	peak    int64 // since the last mark
	overall int64
	samples int
	err     error
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{}), loadStart: loadAvg()}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	m, err := readMemory(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.samples++
	s.last = m.rss
	s.peak = max(s.peak, m.rss)
	s.overall = max(s.overall, m.rss)
}

// mark takes a sample now and returns the peak since the previous mark (or
// the start), then starts a new period.
func (s *sampler) mark() int64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peak
	s.peak = s.last
	return p
}

// current returns the latest sample.
func (s *sampler) current() int64 {
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// finish stops sampling and returns the overall peak, the number of samples
// and the first error met.
func (s *sampler) finish() (peak int64, samples int, err error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overall, s.samples, s.err
}

// idleRSS samples the settled server for d and returns the largest reading.
func idleRSS(pid int, d time.Duration) (int64, error) {
	var peak int64
	end := time.Now().Add(d)
	for {
		m, err := readMemory(pid)
		if err != nil {
			return 0, err
		}
		peak = max(peak, m.rss)
		if time.Now().After(end) {
			return peak, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hwm returns the kernel's record of the process's peak RSS.
func hwm(pid int) int64 {
	m, err := readMemory(pid)
	if err != nil {
		return 0
	}
	return m.hwm
}
