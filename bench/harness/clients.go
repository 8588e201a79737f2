package harness

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// The client comparison (`bench clients`): the same servers under the same
// echo scenarios, driven by each load generator in turn, so that the
// clients' own cost (CPU time per message, measured in the client process
// over the window) can be compared within one run.

// ClientsConfig is one run of the client comparison.
type ClientsConfig struct {
	// Config holds the servers (Go servers only), the scenarios (echo
	// only), rounds, durations, pinning and the program to start; its
	// Client is set per cell and ClientLoops applies to the whirl client.
	Config
	// Clients are the load generators, loadgen.ClientGoroutine and
	// loadgen.ClientWhirl; the first is the one the others are compared
	// with. Empty means both, goroutine first.
	Clients []string
}

// ClientsReport is the outcome of a client comparison: every round, the
// summaries and the ratios. It is what its JSON output holds. Like a
// Report, it is not safe for concurrent modification.
type ClientsReport struct {
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	Machine   Machine    `json:"machine"`
	Settings  Settings   `json:"settings"`
	Servers   []string   `json:"servers"`
	Clients   []string   `json:"clients"`
	Scenarios []Scenario `json:"scenarios"`
	// Cells holds one cell per scenario, server and client.
	Cells []*ClientCell `json:"cells"`
	// Ratios compares every client but the first with the first, per
	// scenario and server.
	Ratios []ClientRatio `json:"ratios"`
	// Failures lists every round that failed, and why.
	Failures []string `json:"failures,omitempty"`
}

// ClientCell is one server under one scenario driven by one client, over
// every round.
type ClientCell struct {
	Scenario string         `json:"scenario"`
	Server   string         `json:"server"`
	Client   string         `json:"client"`
	Rounds   []Round        `json:"rounds"`
	Summary  *ClientSummary `json:"summary,omitempty"`
}

// ClientSummary condenses a ClientCell's successful rounds: medians, and
// ranges where they say something.
type ClientSummary struct {
	Rounds int `json:"rounds"`
	// Rate is messages per second.
	Rate Stat `json:"rate"`
	// ClientCPUPerMsg is the client process's CPU time per message, in
	// nanoseconds.
	ClientCPUPerMsg Stat `json:"client_cpu_per_msg_ns"`
	// ClientBusy is the client's CPU time over the window's length: 1.0
	// is one CPU kept busy the whole time.
	ClientBusy float64 `json:"client_busy"`
	// ClientAllocsPerMsg is the client process's heap allocations per
	// message.
	ClientAllocsPerMsg float64 `json:"client_allocs_per_msg"`
	// ServerCPUPerMsg is the server's CPU time per message.
	ServerCPUPerMsg time.Duration `json:"server_cpu_per_msg_ns"`
	P50             time.Duration `json:"p50_ns"`
	P99             time.Duration `json:"p99_ns"`
}

// ClientRatio compares Client with Against (the first client) on one server
// under one scenario. Each Stat's Median is the ratio of the two cells'
// medians; Min and Max are the lowest and highest per-round ratios (round i
// against round i, run back to back against the same server build).
type ClientRatio struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Client   string `json:"client"`
	Against  string `json:"against"`
	// Rate is msgs/s over Against's.
	Rate Stat `json:"rate"`
	// ClientCPUPerMsg is client CPU per message over Against's.
	ClientCPUPerMsg Stat `json:"client_cpu_per_msg"`
	// RoundMedians are the medians of the per-round ratios, rate then
	// client CPU per message.
	RoundMedians [2]float64 `json:"round_medians"`
}

// EchoScenarios returns the echo scenarios of DefaultScenarios: what the
// client comparison runs by default. Any goroutine.
func EchoScenarios() []Scenario {
	var out []Scenario
	for _, sc := range DefaultScenarios() {
		if sc.Mode == ModeEcho {
			out = append(out, sc)
		}
	}
	return out
}

// RunClients runs the client comparison: for each round, each scenario and
// each server, every client in turn (the order rotating from round to
// round), each cell in fresh server and client processes. A cell that
// fails records its error and the run goes on. Any goroutine.
func RunClients(ctx context.Context, cc ClientsConfig) (*ClientsReport, error) {
	cfg := cc.Config
	cfg.defaults()
	if len(cc.Clients) == 0 {
		cc.Clients = []string{loadgen.ClientGoroutine, loadgen.ClientWhirl}
	}
	if len(cfg.Servers) == 0 || len(cfg.Scenarios) == 0 {
		return nil, errors.New("harness: no servers or no scenarios")
	}
	if cfg.Self.Path == "" {
		return nil, errors.New("harness: Config.Self is not set")
	}
	for _, k := range cfg.Servers {
		if !servers.Known(k) {
			return nil, fmt.Errorf("harness: the client comparison runs the Go servers only, not %q", k)
		}
	}
	for _, c := range cc.Clients {
		if c != loadgen.ClientGoroutine && c != loadgen.ClientWhirl {
			return nil, fmt.Errorf("harness: unknown client %q", c)
		}
	}
	for _, sc := range cfg.Scenarios {
		if sc.Mode != ModeEcho {
			return nil, fmt.Errorf("harness: the client comparison runs echo scenarios only, not %q", sc.Name)
		}
	}
	raiseFileLimit()
	rep := &ClientsReport{
		Started: time.Now().UTC(), Machine: describeMachine(cfg), Settings: settingsOf(cfg),
		Servers: cfg.Servers, Clients: cc.Clients, Scenarios: cfg.Scenarios,
	}
	rep.Machine.Python = nil
	rep.Settings.Client, rep.Settings.ClientLoops = "", cfg.ClientLoops
	cells := make(map[[3]string]*ClientCell)
	for _, sc := range cfg.Scenarios {
		for _, k := range cfg.Servers {
			for _, c := range cc.Clients {
				cell := &ClientCell{Scenario: sc.Name, Server: k, Client: c}
				cells[[3]string{sc.Name, k, c}] = cell
				rep.Cells = append(rep.Cells, cell)
			}
		}
	}
	for round := 0; round < cfg.Rounds; round++ {
		for _, sc := range cfg.Scenarios {
			for _, k := range cfg.Servers {
				for i := range cc.Clients {
					c := cc.Clients[(i+round)%len(cc.Clients)]
					if err := ctx.Err(); err != nil {
						rep.summarize()
						return rep, err
					}
					ccfg := cfg
					ccfg.Client = c
					r := runCell(ctx, &ccfg, "", sc, k, round)
					cell := cells[[3]string{sc.Name, k, c}]
					cell.Rounds = append(cell.Rounds, r)
					fmt.Fprintf(cfg.Progress, "round %d/%d  %-20s %-10s %-9s %s\n", round+1, cfg.Rounds, sc.Name, k, c, r.brief(sc))
				}
			}
		}
	}
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadEnd = loadAvg()
	rep.summarize()
	return rep, nil
}

// cell returns the cell of scenario, server and client, or nil.
func (rep *ClientsReport) cell(scenario, server, client string) *ClientCell {
	for _, c := range rep.Cells {
		if c.Scenario == scenario && c.Server == server && c.Client == client {
			return c
		}
	}
	return nil
}

// clientCPUPerMsg returns a round's client CPU per message in nanoseconds,
// or 0 when it was not measured.
func clientCPUPerMsg(r *Round) float64 {
	if !r.ok() || r.Client.Messages == 0 || r.Client.ClientCPU <= 0 {
		return 0
	}
	return float64(r.Client.ClientCPU) / float64(r.Client.Messages)
}

// summarize fills the summaries, the ratios and the failures.
func (rep *ClientsReport) summarize() {
	rep.Failures, rep.Ratios = nil, nil
	for _, c := range rep.Cells {
		var rate, cpu, busy, allocs, srv, p50, p99 []float64
		for i := range c.Rounds {
			r := &c.Rounds[i]
			if !r.ok() {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s / %s / %s client / round %d: %s", c.Scenario, c.Server, c.Client, i+1, r.Err))
				continue
			}
			rate = append(rate, r.Client.PerSec)
			p50 = append(p50, float64(r.Client.P50))
			p99 = append(p99, float64(r.Client.P99))
			if n := float64(r.Client.Messages); n > 0 {
				srv = append(srv, float64(r.ServerCPU)/n)
				allocs = append(allocs, float64(r.Client.ClientMallocs)/n)
			}
			if v := clientCPUPerMsg(r); v > 0 {
				cpu = append(cpu, v)
				busy = append(busy, float64(r.Client.ClientCPU)/float64(r.Client.Elapsed))
			}
		}
		c.Summary = nil
		if len(rate) == 0 {
			continue
		}
		c.Summary = &ClientSummary{
			Rounds: len(rate), Rate: statOf(rate), ClientCPUPerMsg: statOf(cpu),
			ClientBusy: statOf(busy).Median, ClientAllocsPerMsg: statOf(allocs).Median,
			ServerCPUPerMsg: time.Duration(statOf(srv).Median),
			P50:             time.Duration(statOf(p50).Median), P99: time.Duration(statOf(p99).Median),
		}
	}
	if len(rep.Clients) < 2 {
		return
	}
	base := rep.Clients[0]
	for _, sc := range rep.Scenarios {
		for _, k := range rep.Servers {
			b := rep.cell(sc.Name, k, base)
			for _, cl := range rep.Clients[1:] {
				c := rep.cell(sc.Name, k, cl)
				if b == nil || c == nil || b.Summary == nil || c.Summary == nil {
					continue
				}
				var rates, cpus []float64
				for i := range min(len(b.Rounds), len(c.Rounds)) {
					x, y := &c.Rounds[i], &b.Rounds[i]
					if !x.ok() || !y.ok() || y.Client.PerSec == 0 {
						continue
					}
					rates = append(rates, x.Client.PerSec/y.Client.PerSec)
					if cx, cy := clientCPUPerMsg(x), clientCPUPerMsg(y); cx > 0 && cy > 0 {
						cpus = append(cpus, cx/cy)
					}
				}
				ratio := ClientRatio{Scenario: sc.Name, Server: k, Client: cl, Against: base}
				ratio.Rate, ratio.ClientCPUPerMsg = statOf(rates), statOf(cpus)
				ratio.RoundMedians = [2]float64{ratio.Rate.Median, ratio.ClientCPUPerMsg.Median}
				if b.Summary.Rate.Median > 0 {
					ratio.Rate.Median = c.Summary.Rate.Median / b.Summary.Rate.Median
				}
				if b.Summary.ClientCPUPerMsg.Median > 0 {
					ratio.ClientCPUPerMsg.Median = c.Summary.ClientCPUPerMsg.Median / b.Summary.ClientCPUPerMsg.Median
				}
				rep.Ratios = append(rep.Ratios, ratio)
			}
		}
	}
}

// OK reports whether every round of every cell succeeded. Speed is not
// judged. Any goroutine.
func (rep *ClientsReport) OK() bool { return len(rep.Failures) == 0 }

// WriteJSON writes the report as indented JSON. Any goroutine.
func (rep *ClientsReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report as Markdown: the machine, one table per
// scenario, the ratios and the failures. Any goroutine.
func (rep *ClientsReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	m, st := rep.Machine, rep.Settings
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s, Linux %s, gnet %s.\n", m.CPU, m.NumCPU, m.GoVersion, m.Kernel, m.Gnet)
	pin := "not pinned"
	if st.ServerCPUs != "" || st.ClientCPUs != "" {
		pin = fmt.Sprintf("server on CPU %s, client on CPU %s (taskset)", orAll(st.ServerCPUs), orAll(st.ClientCPUs))
	}
	if st.Nice != 0 {
		pin += fmt.Sprintf(", under nice -n %d", st.Nice)
	}
	fmt.Fprintf(&b, "Run: %d rounds, interleaved; %s warm-up + %s measured per cell; %s; server %s; whirl client %s.\n",
		st.Rounds, st.Warmup, st.Duration, pin, loopsOf(st.Loops), loopsOf(st.ClientLoops))
	if m.LoadStart != "" {
		fmt.Fprintf(&b, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n", m.LoadStart, m.LoadEnd)
	}
	for _, sc := range rep.Scenarios {
		fmt.Fprintf(&b, "\n#### %s\n\n", sc.Title)
		b.WriteString("| server | client | msgs/s | min–max | client CPU/msg | min–max | client CPU busy | client allocs/msg | server CPU/msg | p50 | p99 |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, k := range rep.Servers {
			for _, cl := range rep.Clients {
				c := rep.cell(sc.Name, k, cl)
				if c == nil {
					continue
				}
				s := c.Summary
				if s == nil {
					fmt.Fprintf(&b, "| %s | %s | failed |\n", k, cl)
					continue
				}
				cpu := s.ClientCPUPerMsg
				fmt.Fprintf(&b, "| %s | %s | %s | %s–%s | %s | %s–%s | %.2f | %.3f | %s | %s | %s |\n", k, cl,
					count(s.Rate.Median), count(s.Rate.Min), count(s.Rate.Max),
					dur(time.Duration(cpu.Median)), dur(time.Duration(cpu.Min)), dur(time.Duration(cpu.Max)),
					s.ClientBusy, s.ClientAllocsPerMsg, dur(s.ServerCPUPerMsg), dur(s.P50), dur(s.P99))
			}
		}
	}
	if len(rep.Ratios) > 0 {
		b.WriteString("\n#### Ratios\n\n")
		b.WriteString("Ratio of the medians; in brackets, the median and range of the per-round ratios.\n\n")
		b.WriteString("| scenario | server | clients | msgs/s ratio | client CPU/msg ratio |\n|---|---|---|---:|---:|\n")
		for _, r := range rep.Ratios {
			fmt.Fprintf(&b, "| %s | %s | %s ÷ %s | %.2f (%.2f; %.2f–%.2f) | %.2f (%.2f; %.2f–%.2f) |\n",
				r.Scenario, r.Server, r.Client, r.Against,
				r.Rate.Median, r.RoundMedians[0], r.Rate.Min, r.Rate.Max,
				r.ClientCPUPerMsg.Median, r.RoundMedians[1], r.ClientCPUPerMsg.Min, r.ClientCPUPerMsg.Max)
		}
	}
	if len(rep.Failures) > 0 {
		b.WriteString("\n#### Failures\n\n")
		for _, f := range rep.Failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clientsMain runs `bench clients`.
func clientsMain(ctx context.Context, self Command, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench clients", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: bench clients [flags]

Runs the echo scenarios against each server with each load generator in
turn (fresh processes per cell, interleaved, several rounds) and reports
msgs/s and the client process's CPU time per message, with each client's
ratio to the first. The exit status is 1 if any echo was wrong.

flags:
`)
		fs.PrintDefaults()
	}
	var cfg ClientsConfig
	var (
		serverArg = fs.String("servers", servers.Gnet+","+servers.Whirl, "Go servers to drive")
		clientArg = fs.String("clients", loadgen.ClientGoroutine+","+loadgen.ClientWhirl, "load generators, the first being the reference of the ratios")
		scenArg   = fs.String("scenarios", "", "echo scenarios, by name (default: "+scenarioNames(EchoScenarios())+")")
		smoke     = fs.Bool("smoke", false, "a few seconds: 10 connections, 1 round, short windows")
		serverCPU = fs.String("server-cpus", "auto", `taskset CPU list for the servers: "auto", "none", or a list`)
		clientCPU = fs.String("client-cpus", "auto", `taskset CPU list for the load generators: "auto", "none", or a list`)
		out       = fs.String("out", filepath.Join("bench", "results", "clients"), `directory for results.json and results.md ("" writes none)`)
	)
	fs.IntVar(&cfg.Rounds, "rounds", 5, "rounds")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up of each cell")
	fs.DurationVar(&cfg.Duration, "duration", 2*time.Second, "measurement window of each cell")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops of the gnet and whirl servers (0: GOMAXPROCS of the server process)")
	fs.IntVar(&cfg.ClientLoops, "client-loops", 0, "event loops of the whirl client (0: GOMAXPROCS of the client process)")
	fs.StringVar(&cfg.Taskset, "taskset", "taskset", "the taskset program")
	fs.IntVar(&cfg.Nice, "nice", 0, "run servers and clients under nice -n N")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench clients: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.Self, cfg.Progress = self, stderr
	cfg.Servers, cfg.Clients = splitList(*serverArg), splitList(*clientArg)
	all := EchoScenarios()
	if *smoke {
		all = []Scenario{
			{Name: "pingpong-64B-10c", Title: "64 B ping-pong, 10 connections", Mode: ModeEcho, Conns: 10, Size: 64, Depth: 1},
			{Name: "pipelined-4KiB-10c", Title: "4 KiB pipelined 8 deep, 10 connections", Mode: ModeEcho, Conns: 10, Size: 4096, Depth: 8},
		}
		if !flagSet(fs, "rounds") {
			cfg.Rounds = 1
		}
		if !flagSet(fs, "warmup") {
			cfg.Warmup = 100 * time.Millisecond
		}
		if !flagSet(fs, "duration") {
			cfg.Duration = 400 * time.Millisecond
		}
		if !flagSet(fs, "out") {
			*out = ""
		}
	}
	var err error
	if cfg.Scenarios, err = pickScenarios(all, *scenArg); err != nil {
		fmt.Fprintln(stderr, "bench clients:", err)
		return 2
	}
	if cfg.Rounds <= 0 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		fmt.Fprintln(stderr, "bench clients: --rounds and --duration must be positive")
		return 2
	}
	autoS, autoC := autoPinning(cfg.Taskset)
	cfg.ServerCPUs = pinning(*serverCPU, autoS)
	cfg.ClientCPUs = pinning(*clientCPU, autoC)

	rep, err := RunClients(ctx, cfg)
	if err != nil && rep == nil {
		fmt.Fprintln(stderr, "bench clients:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench clients: interrupted:", err)
	}
	if werr := rep.WriteTable(stdout); werr != nil {
		fmt.Fprintln(stderr, "bench clients:", werr)
		return 1
	}
	if *out != "" {
		if werr := writeClientsOutputs(rep, *out); werr != nil {
			fmt.Fprintln(stderr, "bench clients:", werr)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", filepath.Join(*out, "results.{json,md}"))
	}
	if err != nil || !rep.OK() {
		return 1
	}
	return 0
}

// writeClientsOutputs writes results.json and results.md into dir.
func writeClientsOutputs(rep *ClientsReport, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, o := range []struct {
		name  string
		write func(io.Writer) error
	}{{"results.json", rep.WriteJSON}, {"results.md", rep.WriteTable}} {
		f, err := os.Create(filepath.Join(dir, o.name))
		if err != nil {
			return err
		}
		werr := o.write(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}
