package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/python"
	"github.com/whirl-go/whirl/bench/servers"
)

// Scenario modes.
const (
	// ModeEcho keeps messages in flight on open connections (loadgen.Run).
	ModeEcho = "echo"
	// ModeSetup opens, uses once and closes connections (loadgen.Setup).
	ModeSetup = "setup"
	// ModeIdle opens connections and leaves them idle to measure the
	// server's memory per connection (loadgen.Hold).
	ModeIdle = "idle"
	// ModeUDP keeps datagrams in flight on connected UDP sockets
	// (loadgen.RunUDP), against the UDP servers only.
	ModeUDP = "udp"
)

// Scenario is one column of the matrix: a load every server gets.
type Scenario struct {
	// Name identifies the scenario on the command line and in the JSON.
	Name string `json:"name"`
	// Title describes it in the table and the chart.
	Title string `json:"title"`
	// Mode is ModeEcho, ModeSetup, ModeIdle or ModeUDP.
	Mode string `json:"mode"`
	// Conns is the number of connections (ModeSetup: concurrent loops).
	Conns int `json:"conns"`
	// Size is the message size in bytes.
	Size int `json:"size"`
	// Depth is the number of messages in flight per connection (ModeEcho).
	Depth int `json:"depth,omitempty"`
	// Network is the socket an echo load runs over: "" for TCP, or
	// NetworkUnix for a UNIX socket (the UNIX servers only).
	Network string `json:"network,omitempty"`
}

// PingPong reports whether s is an echo scenario with one message in flight.
// Any goroutine.
func (s Scenario) PingPong() bool { return s.Mode == ModeEcho && s.Depth <= 1 }

// DefaultScenarios is the matrix of docs/benchmarks.md. Any goroutine.
func DefaultScenarios() []Scenario {
	return []Scenario{
		{Name: "pingpong-64B-100c", Title: "64 B ping-pong, 100 connections", Mode: ModeEcho, Conns: 100, Size: 64, Depth: 1},
		{Name: "pingpong-64B-1000c", Title: "64 B ping-pong, 1000 connections", Mode: ModeEcho, Conns: 1000, Size: 64, Depth: 1},
		{Name: "pipelined-4KiB-100c", Title: "4 KiB pipelined 8 deep, 100 connections", Mode: ModeEcho, Conns: 100, Size: 4096, Depth: 8},
		{Name: "setup", Title: "connection setup (connect, 64 B round trip, close), 50 at a time", Mode: ModeSetup, Conns: 50, Size: 64},
		{Name: "idle-10k", Title: "idle memory, 10 000 connections", Mode: ModeIdle, Conns: 10000, Size: 64},
	}
}

// SmokeScenarios is a matrix small enough for CI: every mode, a few
// connections. Any goroutine.
func SmokeScenarios() []Scenario {
	return []Scenario{
		{Name: "pingpong-64B-10c", Title: "64 B ping-pong, 10 connections", Mode: ModeEcho, Conns: 10, Size: 64, Depth: 1},
		{Name: "pipelined-4KiB-10c", Title: "4 KiB pipelined 8 deep, 10 connections", Mode: ModeEcho, Conns: 10, Size: 4096, Depth: 8},
		{Name: "setup", Title: "connection setup, 4 at a time", Mode: ModeSetup, Conns: 4, Size: 64},
		{Name: "idle-200", Title: "idle memory, 200 connections", Mode: ModeIdle, Conns: 200, Size: 64},
	}
}

// UDPScenarios are the UDP echo loads, run only against the UDP servers
// (servers.UDP) and only when named (--scenarios). Any goroutine.
func UDPScenarios() []Scenario {
	return []Scenario{
		{Name: "udp-64B-100c", Title: "UDP 64 B ping-pong, 100 sockets", Mode: ModeUDP, Conns: 100, Size: 64, Depth: 1},
		// 160 in flight: what a server's default socket buffer (208 KiB)
		// holds without dropping.
		{Name: "udp-64B-20c-8deep", Title: "UDP 64 B, 8 in flight per socket, 20 sockets", Mode: ModeUDP, Conns: 20, Size: 64, Depth: 8},
		{Name: "udp-64B-10c", Title: "UDP 64 B ping-pong, 10 sockets", Mode: ModeUDP, Conns: 10, Size: 64, Depth: 1},
	}
}

// UDPServers lists the UDP servers in table order. Any goroutine.
func UDPServers() []string {
	return []string{servers.GnetUDP, servers.WhirlUDP, servers.WhirlUDPSingle}
}

// Baseline is the server every ratio is taken against; BaselineUDP is the
// one of the UDP scenarios.
const (
	Baseline    = servers.Gnet
	BaselineUDP = servers.GnetUDP
)

// baselineOf returns the baseline of scenario sc.
func baselineOf(sc Scenario) string { return servers.FamilyBaseline(familyOf(sc)) }

// fits reports whether server kind runs under scenario sc: the servers of
// the scenario's family (the UDP servers under the UDP scenarios, the UNIX
// ones under the UNIX scenarios, and so on).
func fits(sc Scenario, kind string) bool { return servers.Family(kind) == familyOf(sc) }

// DefaultServers lists every server in table order; the Python ones run only
// when the interpreter has their module. Any goroutine.
func DefaultServers() []string {
	out := []string{servers.Gnet, servers.Whirl, servers.WhirlLine, servers.WhirlStream, servers.Stdlib}
	for _, s := range python.Servers {
		out = append(out, s.Kind)
	}
	return out
}

// Config is one run of the matrix.
type Config struct {
	// Servers are the server kinds, in table order: names from
	// servers.Kinds and python.Servers.
	Servers []string
	// Scenarios are the loads.
	Scenarios []Scenario
	// Rounds is how many times the whole matrix runs; cells are
	// interleaved (every server of a scenario, then the next scenario,
	// round after round), and the table shows medians and ranges. 0 means 5.
	Rounds int
	// Warmup and Duration are each echo and setup cell's warm-up and
	// measurement window. 0 means 1 s and 2 s.
	Warmup, Duration time.Duration
	// Settle is how long an idle cell waits after opening its connections
	// before reading the server's memory. 0 means 1 s.
	Settle time.Duration
	// Loops is the event loops of the gnet and whirl servers (0: the
	// server process's GOMAXPROCS, which follows its CPU pinning).
	Loops int
	// StdlibBuffer is the stdlib server's read buffer (0: its default).
	StdlibBuffer int
	// ServerCPUs and ClientCPUs are taskset CPU lists for the server and
	// client processes; "" means not pinned.
	ServerCPUs, ClientCPUs string
	// Taskset is the taskset program; "" means "taskset" on PATH.
	Taskset string
	// Nice, if not 0, runs the server and client processes under
	// `nice -n Nice` (negative values need privileges): on a shared
	// machine it keeps other work from taking their CPUs.
	Nice int
	// Python is the interpreter for the Python servers.
	Python string
	// Client is the load generator of the echo scenarios:
	// loadgen.ClientGoroutine ("" means it too) or loadgen.ClientWhirl.
	// Setup and idle scenarios always use the goroutine client.
	Client string
	// ClientLoops is the whirl client's event loops (0: the client
	// process's GOMAXPROCS, which follows --client-cpus).
	ClientLoops int
	// Self starts this program's `server` and `client` subcommands.
	Self Command
	// CPUProfileDir, if not "", receives a CPU profile of every Go server
	// cell: <server>-<scenario>-r<round>.pprof.
	CPUProfileDir string
	// MemProfileDir, if not "", receives a heap profile of every Go server
	// cell, taken at the end of the window (idle scenarios: with every
	// connection open): <server>-<scenario>-r<round>.heap. Taking it runs
	// a garbage collection, so it changes what the idle cells measure.
	MemProfileDir string
	// Progress, if not nil, receives a line per cell as the run goes.
	Progress io.Writer
}

func (c *Config) defaults() {
	if c.Rounds <= 0 {
		c.Rounds = 5
	}
	if c.Warmup <= 0 {
		c.Warmup = time.Second
	}
	if c.Duration <= 0 {
		c.Duration = 2 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = time.Second
	}
	if c.Taskset == "" {
		c.Taskset = "taskset"
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Run runs the matrix and returns the report. Servers that cannot run here
// (a Python module missing) are left out and listed in Report.Skipped. A
// cell that fails records its error and the run goes on; Report.Failures
// lists them. The error is for a run that could not be made at all. Any
// goroutine.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if len(cfg.Servers) == 0 || len(cfg.Scenarios) == 0 {
		return nil, errors.New("harness: no servers or no scenarios")
	}
	if cfg.Self.Path == "" {
		return nil, errors.New("harness: Config.Self is not set")
	}
	limit := raiseFileLimit()
	rep := &Report{Started: time.Now().UTC(), Machine: describeMachine(cfg), Scenarios: cfg.Scenarios}
	rep.Settings = settingsOf(cfg)

	scriptDir := ""
	var kinds []string
	for _, k := range cfg.Servers {
		if servers.Known(k) {
			kinds = append(kinds, k)
			continue
		}
		ps, ok := python.Lookup(k)
		if !ok {
			return nil, fmt.Errorf("harness: unknown server %q", k)
		}
		if cfg.Python == "" {
			rep.Skipped = append(rep.Skipped, k+": no Python interpreter given")
			continue
		}
		v, err := ps.Version(ctx, cfg.Python)
		if err != nil {
			rep.Skipped = append(rep.Skipped, k+": "+err.Error())
			continue
		}
		rep.Machine.Python[ps.Module] = v
		if scriptDir == "" {
			d, err := os.MkdirTemp("", "whirl-bench-py-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(d)
			if err := python.WriteScripts(d); err != nil {
				return nil, err
			}
			scriptDir = d
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return nil, errors.New("harness: none of the servers can run here")
	}
	rep.Servers = kinds
	for _, dir := range []string{cfg.CPUProfileDir, cfg.MemProfileDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
	}

	cells := make(map[[2]string]*Cell)
	for _, sc := range cfg.Scenarios {
		for _, k := range kinds {
			if !fits(sc, k) {
				continue
			}
			c := &Cell{Scenario: sc.Name, Server: k}
			cells[[2]string{sc.Name, k}] = c
			rep.Cells = append(rep.Cells, c)
		}
	}
	for round := 0; round < cfg.Rounds; round++ {
		for _, sc := range cfg.Scenarios {
			if sc.Mode == ModeIdle && uint64(sc.Conns)+64 > limit {
				fmt.Fprintf(cfg.Progress, "warning: open-file limit %d is too low for %d connections\n", limit, sc.Conns)
			}
			// Rotate the order each round so no server always goes first.
			for i := range kinds {
				k := kinds[(i+round)%len(kinds)]
				if !fits(sc, k) {
					continue
				}
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				r := runCell(ctx, &cfg, scriptDir, sc, k, round)
				cells[[2]string{sc.Name, k}].Rounds = append(cells[[2]string{sc.Name, k}].Rounds, r)
				fmt.Fprintf(cfg.Progress, "round %d/%d  %-22s %-15s %s\n", round+1, cfg.Rounds, sc.Name, k, r.brief(sc))
			}
		}
	}
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadEnd = loadAvg()
	rep.summarize()
	return rep, nil
}

// niced prefixes argv with nice when the configuration asks for it.
func (c *Config) niced(argv []string) []string {
	if c.Nice == 0 {
		return argv
	}
	return append([]string{"nice", "-n", strconv.Itoa(c.Nice)}, argv...)
}

// serverArgv returns the command line of server kind, listening on listen
// (a Go server's --listen).
func serverArgv(cfg *Config, scriptDir string, sc Scenario, kind, listen string, round int) (argv, env []string) {
	if ps, ok := python.Lookup(kind); ok {
		return []string{cfg.Python, filepath.Join(scriptDir, ps.Script), "--host", "127.0.0.1", "--port", "0"}, nil
	}
	argv = append([]string{cfg.Self.Path}, cfg.Self.Args...)
	argv = append(argv, "server", "--kind", kind, "--listen", listen, "--loops", strconv.Itoa(cfg.Loops))
	if cfg.StdlibBuffer > 0 {
		argv = append(argv, "--stdlib-buffer", strconv.Itoa(cfg.StdlibBuffer))
	}
	if cfg.CPUProfileDir != "" {
		name := fmt.Sprintf("%s-%s-r%d.pprof", kind, sc.Name, round+1)
		argv = append(argv, "--cpuprofile", filepath.Join(cfg.CPUProfileDir, name))
	}
	if cfg.MemProfileDir != "" {
		name := fmt.Sprintf("%s-%s-r%d.heap", kind, sc.Name, round+1)
		argv = append(argv, "--memprofile", filepath.Join(cfg.MemProfileDir, name))
	}
	return argv, cfg.Self.Env
}

func clientArgv(cfg *Config, sc Scenario, addr string) []string {
	argv := append([]string{cfg.Self.Path}, cfg.Self.Args...)
	argv = append(argv, "client",
		"--mode", sc.Mode, "--addr", addr,
		"--conns", strconv.Itoa(sc.Conns), "--size", strconv.Itoa(sc.Size), "--depth", strconv.Itoa(max(sc.Depth, 1)),
		"--warmup", cfg.Warmup.String(), "--duration", cfg.Duration.String())
	if sc.Mode == ModeEcho && cfg.Client == loadgen.ClientWhirl {
		argv = append(argv, "--client", loadgen.ClientWhirl, "--loops", strconv.Itoa(cfg.ClientLoops))
	}
	return argv
}

// serverProbe reads what the harness measures of a server process.
type serverProbe struct {
	p     *proc
	goSrv bool
}

type probe struct {
	cpu   time.Duration
	rss   int64
	stats *ServerStats
}

func (s serverProbe) read() (probe, error) {
	var pr probe
	var err error
	if pr.cpu, err = cpuTime(s.p.pid()); err != nil {
		return pr, err
	}
	if pr.rss, err = rss(s.p.pid()); err != nil {
		return pr, err
	}
	if s.goSrv {
		if err := s.p.send(cmdStats); err != nil {
			return pr, err
		}
		line, err := s.p.expect(lineStats, 10*time.Second)
		if err != nil {
			return pr, err
		}
		var st ServerStats
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			return pr, err
		}
		pr.stats = &st
	}
	return pr, nil
}

// runCell runs one server under one scenario, both in fresh processes.
func runCell(ctx context.Context, cfg *Config, scriptDir string, sc Scenario, kind string, round int) Round {
	var r Round
	fail := func(err error) Round {
		r.Err = err.Error()
		return r
	}
	// A UNIX server gets a socket path in a directory of its own, removed
	// once the server stopped (the deferred stop below runs first).
	listen := "127.0.0.1:0"
	if servers.Unix(kind) {
		l, remove, err := unixListen()
		if err != nil {
			return fail(err)
		}
		defer remove()
		listen = l
	}
	argv, env := serverArgv(cfg, scriptDir, sc, kind, listen, round)
	srv, err := startProc(ctx, "server "+kind, cfg.niced(argv), env, cfg.ServerCPUs, cfg.Taskset)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := srv.stop(10 * time.Second); err != nil && r.Err == "" {
			r.Err = err.Error()
		}
	}()
	addr, err := srv.expect(lineListening, 30*time.Second)
	if err != nil {
		return fail(err)
	}
	sp := serverProbe{p: srv, goSrv: servers.Known(kind)}
	// Let the server finish starting (the Python interpreters load
	// modules lazily) before the baseline reading.
	time.Sleep(100 * time.Millisecond)

	var before, after probe
	if sc.Mode == ModeIdle {
		if before, err = sp.read(); err != nil {
			return fail(err)
		}
	}
	cli, err := startProc(ctx, "client", cfg.niced(clientArgv(cfg, sc, addr)), cfg.Self.Env, cfg.ClientCPUs, cfg.Taskset)
	if err != nil {
		return fail(err)
	}
	defer cli.kill()
	timeout := cfg.Warmup + cfg.Duration + 120*time.Second

	switch sc.Mode {
	case ModeIdle:
		line, err := cli.expect(lineHolding, timeout)
		if err != nil {
			return fail(err)
		}
		time.Sleep(cfg.Settle)
		if after, err = sp.read(); err != nil {
			return fail(err)
		}
		if err := json.Unmarshal([]byte(line), &r.Client); err != nil {
			return fail(err)
		}
		_ = cli.stdin.Close()
	default:
		if _, err := cli.expect(lineMeasure, timeout); err != nil {
			return fail(err)
		}
		if before, err = sp.read(); err != nil {
			return fail(err)
		}
		if _, err := cli.expect(lineEnd, timeout); err != nil {
			return fail(err)
		}
		if after, err = sp.read(); err != nil {
			return fail(err)
		}
	}
	line, err := cli.expect(lineResult, timeout)
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal([]byte(line), &r.Client); err != nil {
		return fail(err)
	}
	if err := cli.stop(10 * time.Second); err != nil {
		return fail(err)
	}
	r.ServerCPU = after.cpu - before.cpu
	r.RSSBefore, r.RSSAfter = before.rss, after.rss
	if before.stats != nil && after.stats != nil {
		m := int64(after.stats.Mallocs - before.stats.Mallocs)
		r.ServerMallocs = &m
		g0 := int64(before.stats.HeapInuse + before.stats.StackInuse)
		g1 := int64(after.stats.HeapInuse + after.stats.StackInuse)
		r.GoMemBefore, r.GoMemAfter = &g0, &g1
	}
	if !r.Client.OK() {
		r.Err = "correctness: " + describeFailure(&r.Client)
	}
	return r
}

// describeFailure says what went wrong in a client result.
func describeFailure(res *loadgen.Result) string {
	var parts []string
	if res.Mismatches > 0 {
		parts = append(parts, fmt.Sprintf("%d mismatched echoes", res.Mismatches))
	}
	if res.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", res.Errors))
	}
	if res.Silent > 0 {
		parts = append(parts, fmt.Sprintf("%d connections never answered", res.Silent))
	}
	if res.Verified == 0 {
		parts = append(parts, "nothing echoed")
	}
	s := strings.Join(parts, ", ")
	if res.FirstError != "" {
		s += " (first: " + res.FirstError + ")"
	}
	return s
}
