package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/endpoint"
)

// ErrProcesses means --processes cannot be used as given: a count below 1,
// a listen address other than tcp or tcp6 (SO_REUSEPORT spreads only TCP
// connections over processes), or a command line the server cannot re-run.
var ErrProcesses = errors.New("cli: --processes")

// readyEnv names the descriptor on which a child of --processes reports
// its bound address, once, when it listens.
const readyEnv = "WHIRL_PROCESS_READY_FD"

// maxRestarts bounds how many times the processes of one server are
// restarted after a crash, as Tornado's fork_processes does (max_restarts).
const maxRestarts = 100

// checkProcesses reports why --processes cannot be used with srv.
func (fl *Flags) checkProcesses(srv endpoint.Server) error {
	switch {
	case fl.Processes < 0:
		return fmt.Errorf("%w %d: want 1 or more (0 means 1)", ErrProcesses, fl.Processes)
	case fl.Processes > 1 && srv.Kind != endpoint.TCP && srv.Kind != endpoint.TCP6:
		return fmt.Errorf("%w %d: the processes share the port with SO_REUSEPORT, which spreads tcp and tcp6 connections only, not %s", ErrProcesses, fl.Processes, srv.Kind)
	}
	return nil
}

// childReady wraps ready so that, in a process started by --processes, the
// bound address is also reported to the parent.
func childReady(ready func(net.Addr)) func(net.Addr) {
	fdStr := os.Getenv(readyEnv)
	if fdStr == "" {
		return ready
	}
	os.Unsetenv(readyEnv)
	fd, err := strconv.Atoi(fdStr)
	if err != nil {
		return ready
	}
	return func(addr net.Addr) {
		if f := os.NewFile(uintptr(fd), "ready"); f != nil {
			fmt.Fprintln(f, addr)
			f.Close()
		}
		if ready != nil {
			ready(addr)
		}
	}
}

// child is one process of --processes.
type child struct {
	slot int
	cmd  *exec.Cmd
}

// exit is a child that ended, with its status.
type exit struct {
	c   *child
	err error
}

// serveProcesses runs fl.Processes copies of this server, each listening on
// the same port with SO_REUSEPORT, until ctx is done, as Tornado's
// TCPServer.start(n) forks n processes. Each copy is this program run again
// with the same arguments, --processes=1 and the listen address with
// reuseport=1 (and, for port 0, the port the first copy got). A copy that
// crashes (a signal, a non-zero status) is started again, up to
// maxRestarts times; one that exits cleanly is not. When ctx is done each
// gets SIGTERM and a graceful stop. It logs "listening" once every copy
// listens, then calls ready.
func (fl *Flags) serveProcesses(ctx context.Context, log zerolog.Logger, logOut *os.File, srv endpoint.Server, ready func(net.Addr)) error {
	exe, prefix, err := fl.command()
	if err != nil {
		return err
	}
	srv.ReusePort = true
	exits := make(chan exit, fl.Processes)
	running := map[*child]bool{}
	stopAll := func() {
		for c := range running {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		}
		for len(running) > 0 {
			e := <-exits
			delete(running, e.c)
		}
	}
	start := func(slot int) (*child, net.Addr, error) {
		c, addr, err := fl.startChild(ctx, exe, prefix, srv, slot, logOut, exits)
		if err == nil {
			running[c] = true
			log.Info().Int("process", slot).Int("pid", c.cmd.Process.Pid).Msg("process started")
		}
		return c, addr, err
	}

	var addr net.Addr
	for slot := range fl.Processes {
		_, a, err := start(slot)
		if err != nil {
			stopAll()
			return err
		}
		if slot == 0 {
			// Port 0: the others share the port the first one got.
			addr = a
			if ta, ok := a.(*net.TCPAddr); ok {
				srv.Port = ta.Port
			}
		}
	}
	log.Info().Str("addr", addr.String()).Str("listen", fl.Listen).Int("processes", fl.Processes).Msg("listening")
	if ready != nil {
		ready(addr)
	}

	restarts := 0
	for {
		select {
		case <-ctx.Done():
			stopAll()
			log.Info().Int("processes", fl.Processes).Msg("stopped")
			return nil
		case e := <-exits:
			delete(running, e.c)
			if e.err == nil {
				log.Info().Int("process", e.c.slot).Int("pid", e.c.cmd.Process.Pid).Msg("process exited")
				if len(running) == 0 {
					return nil
				}
				continue
			}
			if restarts >= maxRestarts {
				log.Error().Err(e.err).Int("process", e.c.slot).Msg("process failed; too many restarts, stopping")
				stopAll()
				return fmt.Errorf("cli: process %d: %w (after %d restarts)", e.c.slot, e.err, restarts)
			}
			restarts++
			log.Warn().Err(e.err).Int("process", e.c.slot).Int("pid", e.c.cmd.Process.Pid).Int("restarts", restarts).Msg("process failed; restarting it")
			if _, _, err := start(e.c.slot); err != nil {
				if ctx.Err() != nil {
					stopAll()
					return nil
				}
				log.Error().Err(err).Int("process", e.c.slot).Msg("process could not restart")
				if len(running) == 0 {
					return err
				}
			}
		}
	}
}

// startChild starts one copy listening on srv and waits until it reports
// its bound address (or exits). Its exit is later sent on exits.
func (fl *Flags) startChild(ctx context.Context, exe string, prefix []string, srv endpoint.Server, slot int, logOut *os.File, exits chan<- exit) (*child, net.Addr, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	args := append(slices.Clone(prefix), *fl.args...)
	args = append(args, "--processes=1", "--listen="+srv.String())
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, logOut
	cmd.ExtraFiles = []*os.File{w} // descriptor 3
	cmd.Env = append(os.Environ(), readyEnv+"=3")
	setParentDeathSignal(cmd)
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("cli: start process %d: %w", slot, err)
	}
	c := &child{slot: slot, cmd: cmd}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if s == "" { // it exited (or closed the pipe) before listening
			return nil, nil, fmt.Errorf("cli: process %d exited before listening: %v", slot, <-done)
		}
		a, err := net.ResolveTCPAddr("tcp", s[:len(s)-1])
		if err != nil {
			_ = cmd.Process.Kill()
			<-done
			return nil, nil, fmt.Errorf("cli: process %d reported %q: %w", slot, s, err)
		}
		go func() { exits <- exit{c, <-done} }()
		return c, a, nil
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		return nil, nil, ctx.Err()
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		return nil, nil, fmt.Errorf("cli: process %d did not listen within a minute", slot)
	}
}

// command returns the program to re-run for each process and the arguments
// before the server's own flags (a subcommand's name): os.Args must end
// with the arguments the flags were parsed from.
func (fl *Flags) command() (string, []string, error) {
	if fl.args == nil {
		return "", nil, fmt.Errorf("%w: the flags were not parsed by ParseServerFlags, so the program cannot be run again", ErrProcesses)
	}
	n := len(os.Args) - len(*fl.args)
	if n < 1 || !slices.Equal(os.Args[n:], *fl.args) {
		return "", nil, fmt.Errorf("%w: the flags were not parsed from this program's command line, so it cannot be run again", ErrProcesses)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrProcesses, err)
	}
	return exe, slices.Clone(os.Args[1:n]), nil
}
