package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runAsWhirl makes this test binary run whirl's main instead of the tests
// when the environment says so: the tests start real whirl processes (with
// their own pids, stopped by signals) without a separate go build, and the
// --processes supervisor re-runs the same binary for its children.
const runAsWhirl = "WHIRL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsWhirl) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is a whirl command running as a child process, its JSON log
// lines collected.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error         // its exit status, once done

	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
	seen  chan struct{} // signalled on each new line
}

// startWhirl runs "whirl args..." and stops it (SIGTERM, then SIGKILL) when
// the test ends.
func startWhirl(t *testing.T, args ...string) *process {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: exec.Command(self, args...), done: make(chan struct{}), seen: make(chan struct{}, 1)}
	p.cmd.Env = append(os.Environ(), runAsWhirl+"=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.collect(stderr)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("whirl %s (pid %d) logged:\n%s", strings.Join(args, " "), p.cmd.Process.Pid, p.log())
		}
	})
	return p
}

func (p *process) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		p.mu.Lock()
		p.raw.Write(sc.Bytes())
		p.raw.WriteByte('\n')
		if m != nil {
			p.lines = append(p.lines, m)
		}
		p.mu.Unlock()
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
	p.err = p.cmd.Wait()
	close(p.done)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// waitLine waits for n log lines with message msg, above debug level (the
// reactor's own debug lines reuse some messages), and returns them.
func (p *process) waitLine(msg string, n int, timeout time.Duration) []map[string]any {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		var found []map[string]any
		p.mu.Lock()
		for _, l := range p.lines {
			if l["message"] == msg && l["level"] != "debug" {
				found = append(found, l)
			}
		}
		p.mu.Unlock()
		if len(found) >= n {
			return found
		}
		select {
		case <-p.seen:
		case <-p.done:
			p.t.Fatalf("whirl exited (%v) before logging %d %q lines:\n%s", p.err, n, msg, p.log())
		case <-deadline:
			p.t.Fatalf("no %d %q log lines within %v:\n%s", n, msg, timeout, p.log())
		}
	}
}

// addr returns the address of its (first) "listening" line.
func (p *process) addr() string {
	p.t.Helper()
	a, _ := p.waitLine("listening", 1, 10*time.Second)[0]["addr"].(string)
	if a == "" {
		p.t.Fatalf("listening line without addr:\n%s", p.log())
	}
	return a
}

// stop sends SIGTERM and waits for the exit, killing it after 10 s.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) String() string { return fmt.Sprintf("pid %d", p.cmd.Process.Pid) }
