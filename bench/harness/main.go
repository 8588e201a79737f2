package harness

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/python"
	"github.com/whirl-go/whirl/bench/servers"
)

const usageText = `usage: bench [run] [flags]       run the benchmark matrix (the default)
       bench clients [flags]     compare the load generators (goroutine, whirl) per server
       bench report --in FILE    print and redraw a results.json (--out DIR)
       bench server [flags]      run one echo server (used by run)
       bench client [flags]      run one load against a server (used by run)

run prints a Markdown table of every scenario with each server's ratio to
raw gnet, and writes results.json, results.md and results.svg into --out.
Each cell runs in fresh server and client processes. The exit status is 1
if any echo was wrong or any connection went unanswered (speed is never
judged), 2 for a usage error.

run flags:
`

// Main runs the bench command line: args are the arguments after the program
// name, self starts this same program (for the server and client
// processes). It returns the exit status. Any goroutine.
func Main(ctx context.Context, self Command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "server":
			return serverMain(ctx, args[1:], stdin, stdout, stderr)
		case "client":
			return clientMain(ctx, args[1:], stdin, stdout, stderr)
		case "report":
			return reportMain(args[1:], stdout, stderr)
		case "clients":
			return clientsMain(ctx, self, args[1:], stdout, stderr)
		case "run":
			args = args[1:]
		}
	}
	return runMain(ctx, self, args, stdout, stderr)
}

func runMain(ctx context.Context, self Command, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	var (
		cfg       Config
		serverArg = fs.String("servers", strings.Join(DefaultServers(), ","), "servers to compare, in table order (gnet is the baseline; gnet-udp of the UDP scenarios, which run the UDP servers "+strings.Join(UDPServers(), ", ")+"; gnet-unix of the UNIX scenarios, which run "+strings.Join(UnixServers(), ", ")+")")
		scenArg   = fs.String("scenarios", "", "scenarios to run, by name (default all: "+scenarioNames(DefaultScenarios())+"; UDP, run only when named: "+scenarioNames(UDPScenarios())+"; UNIX socket, run only when named: "+scenarioNames(UnixScenarios())+")")
		smoke     = fs.Bool("smoke", false, "a matrix of a few seconds with few connections (CI): "+scenarioNames(SmokeScenarios()))
		idleConns = fs.Int("idle-conns", 0, "connections of the idle scenario (default 10000; smoke 200)")
		serverCPU = fs.String("server-cpus", "auto", `taskset CPU list for the servers: "auto" (first half of the CPUs when taskset exists and there are 2 or more), "none", or a list such as 0 or 0-1`)
		clientCPU = fs.String("client-cpus", "auto", `taskset CPU list for the load generator: "auto" (the other half), "none", or a list`)
		out       = fs.String("out", filepath.Join("bench", "results"), `directory for results.json, results.md and results.svg ("" writes none; --smoke writes none unless given)`)
	)
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds of the whole matrix (the median of 5 stays put when one or two rounds hit a slow spell of the machine)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up of each cell")
	fs.DurationVar(&cfg.Duration, "duration", 2*time.Second, "measurement window of each cell")
	fs.DurationVar(&cfg.Settle, "settle", time.Second, "idle scenario: wait after opening the connections before reading memory")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops of gnet and whirl (0: GOMAXPROCS of the server process, which follows --server-cpus)")
	fs.IntVar(&cfg.StdlibBuffer, "stdlib-buffer", 0, "read buffer per connection of the stdlib server (0: 16 KiB)")
	fs.StringVar(&cfg.Taskset, "taskset", "taskset", "the taskset program")
	fs.IntVar(&cfg.Nice, "nice", 0, "run servers and clients under nice -n N (e.g. -5 on a shared machine; negative needs root)")
	fs.StringVar(&cfg.Python, "python", "/usr/bin/python3", `interpreter for the Python servers (they run when it imports twisted / tornado; "" skips them)`)
	fs.StringVar(&cfg.CPUProfileDir, "cpuprofile-dir", "", "write a CPU profile of every Go server cell into this directory")
	fs.StringVar(&cfg.MemProfileDir, "memprofile-dir", "", "write a heap profile of every Go server cell into this directory (forces a GC before the idle reading)")
	fs.StringVar(&cfg.Client, "client", loadgen.ClientGoroutine, "load generator of the echo scenarios: goroutine (a goroutine per connection) or whirl (whirl's own client, reactor.ConnectTCP); setup and idle always use goroutine")
	fs.IntVar(&cfg.ClientLoops, "client-loops", 0, "event loops of the whirl client (0: GOMAXPROCS of the client process, which follows --client-cpus)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if cfg.Client != loadgen.ClientGoroutine && cfg.Client != loadgen.ClientWhirl {
		fmt.Fprintf(stderr, "bench: unknown client %q (want goroutine or whirl)\n", cfg.Client)
		return 2
	}
	cfg.Self = self
	cfg.Progress = stderr
	cfg.Servers = splitList(*serverArg)
	for _, k := range cfg.Servers {
		if _, ok := python.Lookup(k); !ok && !servers.Known(k) {
			fmt.Fprintf(stderr, "bench: unknown server %q (want some of %s)\n", k, strings.Join(slices.Concat(DefaultServers(), UDPServers(), UnixServers(), GnetexServers()), ", "))
			return 2
		}
	}
	all := DefaultScenarios()
	if *smoke {
		all = SmokeScenarios()
		if !flagSet(fs, "rounds") {
			cfg.Rounds = 1
		}
		if !flagSet(fs, "warmup") {
			cfg.Warmup = 100 * time.Millisecond
		}
		if !flagSet(fs, "duration") {
			cfg.Duration = 400 * time.Millisecond
		}
		if !flagSet(fs, "settle") {
			cfg.Settle = 100 * time.Millisecond
		}
		if !flagSet(fs, "out") {
			*out = "" // keep the saved results of a real run
		}
	}
	var err error
	if strings.TrimSpace(*scenArg) != "" {
		all = slices.Concat(all, UDPScenarios(), UnixScenarios(), GnetexScenarios()) // run only when named
	}
	if cfg.Scenarios, err = pickScenarios(all, *scenArg); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if *idleConns > 0 {
		for i := range cfg.Scenarios {
			if cfg.Scenarios[i].Mode == ModeIdle {
				cfg.Scenarios[i].Conns = *idleConns
				cfg.Scenarios[i].Title = fmt.Sprintf("idle memory, %d connections", *idleConns)
			}
		}
	}
	autoS, autoC := autoPinning(cfg.Taskset)
	cfg.ServerCPUs = pinning(*serverCPU, autoS)
	cfg.ClientCPUs = pinning(*clientCPU, autoC)
	if cfg.Rounds <= 0 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		fmt.Fprintln(stderr, "bench: --rounds and --duration must be positive")
		return 2
	}

	rep, err := Run(ctx, cfg)
	if err != nil && rep == nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench: interrupted:", err)
		rep.summarize()
	}
	if werr := rep.WriteTable(stdout); werr != nil {
		fmt.Fprintln(stderr, "bench:", werr)
		return 1
	}
	if *out != "" {
		if werr := writeOutputs(rep, *out); werr != nil {
			fmt.Fprintln(stderr, "bench:", werr)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(*out, "results.{json,md,svg}"))
	}
	if err != nil || !rep.OK() {
		return 1
	}
	return 0
}

// reportMain runs `bench report`: it reads a results.json, summarizes it
// again, prints the table and, with --out, writes the three files anew.
func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", filepath.Join("bench", "results", "results.json"), "the results.json to read")
	out := fs.String("out", "", "directory to write results.json, results.md and results.svg into (default: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rep, err := ReadReport(*in)
	if err != nil {
		fmt.Fprintln(stderr, "bench report:", err)
		return 1
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "bench report:", err)
		return 1
	}
	if *out != "" {
		if err := writeOutputs(rep, *out); err != nil {
			fmt.Fprintln(stderr, "bench report:", err)
			return 1
		}
	}
	return 0
}

// ReadReport reads a report written by WriteJSON and computes its summaries
// again (with this version's rules). Any goroutine.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep.summarize()
	return &rep, nil
}

// writeOutputs writes results.json, results.md and results.svg into dir.
func writeOutputs(rep *Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{
		"results.json": rep.WriteJSON,
		"results.md":   rep.WriteTable,
		"results.svg":  rep.WriteSVG,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		werr := write(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func scenarioNames(s []Scenario) string {
	names := make([]string, len(s))
	for i, sc := range s {
		names[i] = sc.Name
	}
	return strings.Join(names, ", ")
}

func pickScenarios(all []Scenario, list string) ([]Scenario, error) {
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []Scenario
	for _, name := range splitList(list) {
		found := false
		for _, sc := range all {
			if sc.Name == name {
				out = append(out, sc)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown scenario %q (want some of %s)", name, scenarioNames(all))
		}
	}
	return out, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// autoPinning splits the CPUs in two halves, servers first, when taskset
// exists and there are at least two CPUs; otherwise nothing is pinned.
func autoPinning(taskset string) (server, client string) {
	if _, err := exec.LookPath(taskset); err != nil {
		return "", ""
	}
	n := onlineCPUs()
	if n < 2 {
		return "", ""
	}
	half := n / 2
	span := func(lo, hi int) string {
		if lo == hi {
			return fmt.Sprint(lo)
		}
		return fmt.Sprintf("%d-%d", lo, hi)
	}
	return span(0, half-1), span(half, n-1)
}

func pinning(arg, auto string) string {
	switch arg {
	case "auto":
		return auto
	case "none", "":
		return ""
	}
	return arg
}
