package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// Report is the outcome of a run: every measurement, the summaries, and the
// targets. It is what the JSON output holds.
type Report struct {
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	Machine   Machine    `json:"machine"`
	Settings  Settings   `json:"settings"`
	Servers   []string   `json:"servers"`
	Scenarios []Scenario `json:"scenarios"`
	// Skipped lists the servers left out, with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// Cells holds one cell per scenario and server, scenario-major.
	Cells []*Cell `json:"cells"`
	// Targets are the performance goals, checked against the medians.
	Targets []Target `json:"targets,omitempty"`
	// Failures lists every round that failed, and why. A correctness
	// failure (a wrong byte, an unanswered connection) is one.
	Failures []string `json:"failures,omitempty"`
}

// Settings are the parts of the Config a reader of the report needs.
type Settings struct {
	Rounds       int    `json:"rounds"`
	Warmup       string `json:"warmup"`
	Duration     string `json:"duration"`
	Loops        int    `json:"loops"`
	ServerCPUs   string `json:"server_cpus,omitempty"`
	ClientCPUs   string `json:"client_cpus,omitempty"`
	StdlibBuffer int    `json:"stdlib_buffer"`
	Nice         int    `json:"nice,omitempty"`
	// Client is the load generator of the echo scenarios when it is not
	// the goroutine client; ClientLoops its event loops (0: GOMAXPROCS).
	Client      string `json:"client,omitempty"`
	ClientLoops int    `json:"client_loops,omitempty"`
}

func settingsOf(cfg Config) Settings {
	buf := cfg.StdlibBuffer
	if buf <= 0 {
		buf = servers.DefaultStdlibBuffer
	}
	st := Settings{
		Rounds: cfg.Rounds, Warmup: cfg.Warmup.String(), Duration: cfg.Duration.String(),
		Loops: cfg.Loops, ServerCPUs: cfg.ServerCPUs, ClientCPUs: cfg.ClientCPUs, StdlibBuffer: buf, Nice: cfg.Nice,
	}
	if cfg.Client != "" && cfg.Client != loadgen.ClientGoroutine {
		st.Client, st.ClientLoops = cfg.Client, cfg.ClientLoops
	}
	return st
}

// Cell is one server under one scenario, over every round.
type Cell struct {
	Scenario string   `json:"scenario"`
	Server   string   `json:"server"`
	Rounds   []Round  `json:"rounds"`
	Summary  *Summary `json:"summary,omitempty"`
}

// Round is one measurement of a cell, in its own server and client
// processes.
type Round struct {
	// Client is what the load generator measured.
	Client loadgen.Result `json:"client"`
	// ServerCPU is the CPU time (user + system) the server process used
	// during the measurement window.
	ServerCPU time.Duration `json:"server_cpu_ns"`
	// ServerMallocs is the number of heap allocations a Go server made
	// during the window (idle: while the connections were opened).
	ServerMallocs *int64 `json:"server_mallocs,omitempty"`
	// RSSBefore and RSSAfter are the server's resident set size at the
	// start and end of the window (idle: before the connections were
	// opened, and once they were open and idle).
	RSSBefore int64 `json:"rss_before"`
	RSSAfter  int64 `json:"rss_after"`
	// GoMemBefore and GoMemAfter are a Go server's heap in use plus
	// goroutine stacks at the same moments.
	GoMemBefore *int64 `json:"go_mem_before,omitempty"`
	GoMemAfter  *int64 `json:"go_mem_after,omitempty"`
	// Err says why the round failed; empty when it did not.
	Err string `json:"error,omitempty"`
}

func (r *Round) ok() bool { return r.Err == "" }

// rate is the round's main figure: messages (setup: connections) per
// second, or, for idle scenarios, resident bytes per connection.
func (r *Round) rate(sc Scenario) float64 {
	if sc.Mode == ModeIdle {
		return r.rssPerConn()
	}
	return r.Client.PerSec
}

func (r *Round) rssPerConn() float64 {
	if r.Client.Conns == 0 {
		return 0
	}
	return float64(r.RSSAfter-r.RSSBefore) / float64(r.Client.Conns)
}

func (r *Round) brief(sc Scenario) string {
	if !r.ok() {
		return "FAILED: " + r.Err
	}
	if sc.Mode == ModeIdle {
		return fmt.Sprintf("%s RSS/conn", kib(r.rssPerConn()))
	}
	s := fmt.Sprintf("%s/s  p99 %s", count(r.Client.PerSec), dur(r.Client.P99))
	if r.Client.Messages > 0 {
		s += fmt.Sprintf("  server %s CPU/msg", dur(r.ServerCPU/time.Duration(r.Client.Messages)))
		if r.Client.ClientCPU > 0 {
			s += fmt.Sprintf("  client %s CPU/msg", dur(r.Client.ClientCPU/time.Duration(r.Client.Messages)))
		}
	}
	if sc.Mode == ModeUDP {
		s += fmt.Sprintf("  lost %d", r.Client.Lost)
	}
	return s
}

// Stat is a median with the smallest and largest value.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func statOf(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return Stat{Median: median(s), Min: s[0], Max: s[len(s)-1]}
}

// median of sorted values: the middle one, or the mean of the two middle ones.
func median(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Summary condenses a cell's successful rounds.
type Summary struct {
	// Rounds is the number of successful rounds summarized.
	Rounds int `json:"rounds"`
	// Rate is messages per second (setup: connections per second; idle:
	// resident bytes per connection).
	Rate Stat `json:"rate"`
	// MBPerSec is the median payload throughput, 10^6 bytes per second.
	MBPerSec float64 `json:"mb_per_sec"`
	// P50, P99 and P999 are the medians of the rounds' latency percentiles.
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	// CPUPerMsg is the median server CPU time per message (setup: per
	// connection).
	CPUPerMsg time.Duration `json:"cpu_per_msg_ns"`
	// AllocsPerMsg is the median number of heap allocations a Go server
	// made per message (setup: per connection; idle: per connection).
	AllocsPerMsg *float64 `json:"allocs_per_msg,omitempty"`
	// GoMemPerConn is a Go server's heap plus stacks per idle connection.
	GoMemPerConn *float64 `json:"go_mem_per_conn,omitempty"`
	// Ratio is this cell's Rate median over the baseline's (gnet), with the
	// range of the per-round ratios (round i against the baseline's round i).
	Ratio *Stat `json:"ratio,omitempty"`
	// CPURatio is CPUPerMsg over the baseline's: the server's cost per
	// message relative to gnet's, less sensitive than Rate to what else
	// runs on the machine.
	CPURatio *float64 `json:"cpu_ratio,omitempty"`
}

// Target is one of the benchmark's goals, checked against this run.
type Target struct {
	What string  `json:"what"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Met  bool    `json:"met"`
}

func (rep *Report) scenario(name string) Scenario {
	for _, s := range rep.Scenarios {
		if s.Name == name {
			return s
		}
	}
	return Scenario{Name: name}
}

// Cell returns the cell of scenario and server, or nil. Any goroutine.
func (rep *Report) Cell(scenario, server string) *Cell {
	for _, c := range rep.Cells {
		if c.Scenario == scenario && c.Server == server {
			return c
		}
	}
	return nil
}

// summarize fills every cell's Summary, the ratios, the failures and the
// targets.
func (rep *Report) summarize() {
	rep.Failures = nil
	for _, c := range rep.Cells {
		sc := rep.scenario(c.Scenario)
		for i, r := range c.Rounds {
			if !r.ok() {
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s / %s / round %d: %s", c.Scenario, c.Server, i+1, r.Err))
			}
		}
		c.Summary = summarizeCell(sc, c.Rounds)
	}
	for _, c := range rep.Cells {
		base := rep.Cell(c.Scenario, baselineOf(rep.scenario(c.Scenario)))
		if base == nil || c.Summary == nil || base.Summary == nil || base.Summary.Rate.Median == 0 {
			continue
		}
		sc := rep.scenario(c.Scenario)
		var per []float64
		for i := range min(len(c.Rounds), len(base.Rounds)) {
			a, b := &c.Rounds[i], &base.Rounds[i]
			if a.ok() && b.ok() && b.rate(sc) != 0 {
				per = append(per, a.rate(sc)/b.rate(sc))
			}
		}
		st := statOf(per)
		st.Median = c.Summary.Rate.Median / base.Summary.Rate.Median
		c.Summary.Ratio = &st
		if sc.Mode != ModeIdle && base.Summary.CPUPerMsg > 0 {
			r := float64(c.Summary.CPUPerMsg) / float64(base.Summary.CPUPerMsg)
			c.Summary.CPURatio = &r
		}
	}
	rep.Targets = rep.checkTargets()
}

func summarizeCell(sc Scenario, rounds []Round) *Summary {
	var rate, mb, p50, p99, p999, cpu, allocs, gomem []float64
	for i := range rounds {
		r := &rounds[i]
		if !r.ok() {
			continue
		}
		rate = append(rate, r.rate(sc))
		mb = append(mb, r.Client.MBPerSec)
		p50 = append(p50, float64(r.Client.P50))
		p99 = append(p99, float64(r.Client.P99))
		p999 = append(p999, float64(r.Client.P999))
		n := r.Client.Messages
		if sc.Mode == ModeIdle {
			n = int64(r.Client.Conns)
		}
		if n > 0 {
			cpu = append(cpu, float64(r.ServerCPU)/float64(n))
			if r.ServerMallocs != nil {
				allocs = append(allocs, float64(*r.ServerMallocs)/float64(n))
			}
		}
		if r.GoMemBefore != nil && r.GoMemAfter != nil && r.Client.Conns > 0 {
			gomem = append(gomem, float64(*r.GoMemAfter-*r.GoMemBefore)/float64(r.Client.Conns))
		}
	}
	if len(rate) == 0 {
		return nil
	}
	s := &Summary{
		Rounds: len(rate), Rate: statOf(rate), MBPerSec: statOf(mb).Median,
		P50: time.Duration(statOf(p50).Median), P99: time.Duration(statOf(p99).Median), P999: time.Duration(statOf(p999).Median),
		CPUPerMsg: time.Duration(statOf(cpu).Median),
	}
	if len(allocs) > 0 {
		v := statOf(allocs).Median
		s.AllocsPerMsg = &v
	}
	if len(gomem) > 0 {
		v := statOf(gomem).Median
		s.GoMemPerConn = &v
	}
	return s
}

// checkTargets evaluates the reactor issue's goals (server CPU per message
// and per connection against gnet's, idle memory, allocations) with what
// this run measured, and keeps issue 3's throughput floors. The UNIX echo
// scenarios are a port of one of gnet's examples (echo_uds): they get the
// rows of gnetexTargets, for whirl-unix against gnet-unix.
func (rep *Report) checkTargets() []Target {
	var out []Target
	summary := func(scenario, server string) *Summary {
		if c := rep.Cell(scenario, server); c != nil {
			return c.Summary
		}
		return nil
	}
	for _, sc := range rep.Scenarios {
		if familyOf(sc) == servers.FamilyUnix {
			continue // gnetexTargets' rows
		}
		whirl, gnet := servers.Whirl, servers.Gnet
		w := summary(sc.Name, whirl)
		switch {
		case sc.Mode == ModeEcho:
			if w != nil && w.CPURatio != nil {
				out = append(out, Target{
					What: fmt.Sprintf("%s echo server CPU per message ÷ %s's, %s", whirl, gnet, sc.Title),
					Want: "≤ 1.00", Got: *w.CPURatio, Met: *w.CPURatio <= 1,
				})
			}
			want := 0.95
			if !sc.PingPong() {
				want = 0.9
			}
			if w != nil && w.Ratio != nil {
				out = append(out, Target{
					What: fmt.Sprintf("%s echo msgs/s ÷ %s's, %s", whirl, gnet, sc.Title),
					Want: fmt.Sprintf("≥ %.2f", want), Got: w.Ratio.Median, Met: w.Ratio.Median >= want,
				})
			}
			for _, k := range []string{servers.Whirl, servers.WhirlLine, servers.WhirlStream} {
				if s := summary(sc.Name, k); s != nil && s.AllocsPerMsg != nil {
					a := *s.AllocsPerMsg
					out = append(out, Target{
						What: fmt.Sprintf("%s server heap allocations per message, %s", k, sc.Title),
						Want: "< 0.01 (0 on the per-message path)", Got: a, Met: a < 0.01,
					})
				}
			}
		case sc.Mode == ModeSetup:
			if w != nil && w.CPURatio != nil {
				out = append(out, Target{
					What: fmt.Sprintf("whirl server CPU per connection ÷ gnet's, %s", sc.Title),
					Want: "≤ 1.05", Got: *w.CPURatio, Met: *w.CPURatio <= 1.05,
				})
			}
		case sc.Mode == ModeIdle:
			if w != nil && w.Ratio != nil {
				out = append(out, Target{
					What: fmt.Sprintf("whirl RSS per idle connection ÷ gnet's, %s", sc.Title),
					Want: "≤ 1.00", Got: w.Ratio.Median, Met: w.Ratio.Median <= 1,
				})
			}
			s := summary(sc.Name, servers.Stdlib)
			if w != nil && s != nil && s.Rate.Median > 0 {
				r := w.Rate.Median / s.Rate.Median
				out = append(out, Target{
					What: fmt.Sprintf("whirl RSS per idle connection ÷ the standard library's, %s", sc.Title),
					Want: "< 1.00", Got: r, Met: r < 1,
				})
			}
		}
	}
	return append(out, rep.gnetexTargets()...)
}

// OK reports whether every round of every cell succeeded: no byte
// mismatch, no error, every connection answered. Speed is not judged. Any
// goroutine.
func (rep *Report) OK() bool { return len(rep.Failures) == 0 }

// WriteJSON writes the report as indented JSON. Any goroutine.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report as Markdown: the machine, one table per
// scenario, the targets and the failures. Any goroutine.
func (rep *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s, Linux %s, gnet %s", m.CPU, m.NumCPU, m.GoVersion, m.Kernel, m.Gnet)
	for _, mod := range slices.Sorted(maps.Keys(m.Python)) {
		fmt.Fprintf(&b, ", %s %s", mod, m.Python[mod])
	}
	b.WriteString(".\n")
	st := rep.Settings
	pin := "not pinned"
	if st.ServerCPUs != "" || st.ClientCPUs != "" {
		pin = fmt.Sprintf("server on CPU %s, client on CPU %s (taskset)", orAll(st.ServerCPUs), orAll(st.ClientCPUs))
	}
	loops := "GOMAXPROCS"
	if st.Loops > 0 {
		loops = fmt.Sprint(st.Loops)
	}
	if st.Nice != 0 {
		pin += fmt.Sprintf(", under nice -n %d", st.Nice)
	}
	fmt.Fprintf(&b, "Run: %d rounds, interleaved; %s warm-up + %s measured per cell; %s; event loops: %s.\n",
		st.Rounds, st.Warmup, st.Duration, pin, loops)
	if st.Client != "" {
		fmt.Fprintf(&b, "Load generator of the echo scenarios: the %s client (%s); setup and idle: the goroutine client.\n",
			st.Client, loopsOf(st.ClientLoops))
	}
	if m.LoadStart != "" {
		fmt.Fprintf(&b, "Load average (1, 5, 15 min) at the start: %s; at the end: %s.\n", m.LoadStart, m.LoadEnd)
	}
	for _, sk := range rep.Skipped {
		fmt.Fprintf(&b, "Skipped: %s\n", sk)
	}
	for _, sc := range rep.Scenarios {
		fmt.Fprintf(&b, "\n#### %s\n\n", sc.Title)
		switch sc.Mode {
		case ModeIdle:
			b.WriteString("| server | RSS per conn | min–max | × gnet | Go heap+stacks per conn |\n")
			b.WriteString("|---|---:|---:|---:|---:|\n")
		case ModeSetup:
			b.WriteString("| server | conns/s | min–max | × gnet (rounds) | p50 | p99 | p99.9 | server CPU/conn | CPU × gnet | allocs/conn |\n")
			b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		default:
			b.WriteString("| server | msgs/s | min–max | × gnet (rounds) | MB/s | p50 | p99 | p99.9 | server CPU/msg | CPU × gnet | allocs/msg |\n")
			b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		}
		for _, k := range rep.Servers {
			c := rep.Cell(sc.Name, k)
			if c == nil {
				continue
			}
			s := c.Summary
			if s == nil {
				fmt.Fprintf(&b, "| %s | failed |\n", k)
				continue
			}
			ratio := "–"
			if s.Ratio != nil {
				ratio = fmt.Sprintf("%.2f", s.Ratio.Median)
				if sc.Mode != ModeIdle {
					ratio += fmt.Sprintf(" (%.2f–%.2f)", s.Ratio.Min, s.Ratio.Max)
				}
			}
			allocs, cpuRatio := "–", "–"
			if s.AllocsPerMsg != nil {
				allocs = fmt.Sprintf("%.2f", *s.AllocsPerMsg)
			}
			if s.CPURatio != nil {
				cpuRatio = fmt.Sprintf("%.2f", *s.CPURatio)
			}
			switch sc.Mode {
			case ModeIdle:
				gm := "–"
				if s.GoMemPerConn != nil {
					gm = kib(*s.GoMemPerConn)
				}
				fmt.Fprintf(&b, "| %s | %s | %s–%s | %s | %s |\n", k, kib(s.Rate.Median), kib(s.Rate.Min), kib(s.Rate.Max), ratio, gm)
			case ModeSetup:
				fmt.Fprintf(&b, "| %s | %s | %s–%s | %s | %s | %s | %s | %s | %s | %s |\n", k,
					count(s.Rate.Median), count(s.Rate.Min), count(s.Rate.Max), ratio,
					dur(s.P50), dur(s.P99), dur(s.P999), dur(s.CPUPerMsg), cpuRatio, allocs)
			default:
				fmt.Fprintf(&b, "| %s | %s | %s–%s | %s | %.1f | %s | %s | %s | %s | %s | %s |\n", k,
					count(s.Rate.Median), count(s.Rate.Min), count(s.Rate.Max), ratio, s.MBPerSec,
					dur(s.P50), dur(s.P99), dur(s.P999), dur(s.CPUPerMsg), cpuRatio, allocs)
			}
		}
	}
	if len(rep.Targets) > 0 {
		b.WriteString("\n#### Targets\n\n| target | want | got | |\n|---|---|---:|---|\n")
		for _, t := range rep.Targets {
			mark := "met"
			if !t.Met {
				mark = "**missed**"
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f | %s |\n", t.What, t.Want, t.Got, mark)
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

// loopsOf describes a number of event loops, 0 being GOMAXPROCS.
func loopsOf(n int) string {
	if n > 0 {
		return fmt.Sprintf("%d event loops", n)
	}
	return "event loops: GOMAXPROCS"
}

func orAll(cpus string) string {
	if cpus == "" {
		return "any"
	}
	return cpus
}

// count formats a rate: 950, 12.3k, 1.23M.
func count(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// dur formats a duration with three significant digits.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// kib formats bytes as KiB with one decimal.
func kib(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) }
