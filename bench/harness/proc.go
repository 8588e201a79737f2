package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is how the harness starts a program: a path, arguments put before
// the subcommand's own, and variables added to the environment.
type Command struct {
	Path string
	Args []string
	Env  []string
}

// proc is a child process whose standard output is read line by line.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	errw  *tailBuffer
	done  chan struct{}
	err   error // valid once done is closed
}

// tailBuffer keeps the last bytes written to it (a child's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 8 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// startProc starts argv, pinned to cpus with taskset when cpus is not empty.
// The process is killed if ctx ends first.
func startProc(ctx context.Context, name string, argv, env []string, cpus, taskset string) (*proc, error) {
	if cpus != "" {
		argv = append([]string{taskset, "-c", cpus}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 64), errw: &tailBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.errw
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		p.err = cmd.Wait()
		close(p.lines)
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// expect waits for the next line starting with prefix and returns the rest
// of it. Other lines are skipped.
func (p *proc) expect(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				return "", p.failure(fmt.Sprintf("exited before printing %q", strings.TrimSpace(prefix)))
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest, nil
			}
		case <-t.C:
			return "", p.failure(fmt.Sprintf("printed no %q within %v", strings.TrimSpace(prefix), timeout))
		}
	}
}

func (p *proc) failure(what string) error {
	msg := fmt.Sprintf("%s %s", p.name, what)
	select {
	case <-p.done:
		if p.err != nil {
			msg += fmt.Sprintf(" (%v)", p.err)
		}
	default:
	}
	if tail := p.errw.String(); tail != "" {
		msg += ": " + lastLines(tail, 5)
	}
	return errors.New(msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// send writes one line to the child's standard input.
func (p *proc) send(line string) error {
	_, err := io.WriteString(p.stdin, line+"\n")
	return err
}

// stop closes the child's standard input, which asks it to stop, and waits;
// past timeout it kills the child.
func (p *proc) stop(timeout time.Duration) error {
	_ = p.stdin.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return p.failure(fmt.Sprintf("did not stop within %v; killed", timeout))
	}
	// Drain what is left to read is done by the reader goroutine; report a
	// failed exit.
	if p.err != nil {
		return p.failure("failed")
	}
	return nil
}

// kill ends the child at once.
func (p *proc) kill() {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Kill()
	<-p.done
}

// raiseFileLimit raises the soft limit on open files to the hard limit and
// returns the new soft limit. Children inherit it.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	return uint64(lim.Cur) // uint64 on Linux and Darwin, int64 on FreeBSD
}
