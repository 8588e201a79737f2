//go:build linux

// Command soak checks that whirl's echo server keeps its memory bounded
// under peers that send without reading (issue 5, "Flow control and
// bounded memory"). It runs `whirl echo` as a separate process on a free
// loopback port, drives it over TCP, samples the server's resident memory
// (VmRSS in /proc/PID/status) every 100 ms, and reports what it saw.
//
// Usage:
//
//	go run ./internal/soak flood [flags]   one peer (-conns N: N peers) sends 1 GiB and reads nothing
//	go run ./internal/soak stuck [flags]   1000 peers send 256 KiB and never read,
//	                                       while 10 others measure ping-pong latency
//	go run ./internal/soak headers [flags] 20 peers each send a 4-byte header announcing
//	                                       2^31-1 bytes to `whirl framedecho --framing
//	                                       int32 --max-length 2147483647`, and hold
//	go run ./internal/soak chatflood [flags]
//	                                       against `whirl chat`: 100 clients flood lines
//	                                       for 20 s and never read, 10 readers check
//	                                       every line, a probe times lines through the room
//
// Run it from inside the whirl module: unless -server names a binary, it
// builds ./cmd/whirl with `go build` first. The server runs with its default
// settings, its log at debug level (to learn why connections closed) and
// GODEBUG=gctrace=1 (to learn its heap size at each GC).
//
// flood writes the data in -chunk pieces; a write that makes no progress for
// -stall means TCP pushed the client back. It reports how much was written
// by then, the server's peak RSS above idle, and whether the connection was
// still open (the server paused reading) or closed, with the server's
// reason. With -verify (the default) it then reads everything back while
// sending the rest, and checks every byte.
//
// stuck measures the good connections' round trips before the stuck ones
// come, while they connect and send, and while they sit there stalled.
//
// headers checks that a receiver buffers only what arrived: the server's
// MaxLength is the announced length, so it must accept each header and wait
// for a string it will never get. It reports how many connections were
// still open after -hold, whether a fresh client got its framed echo
// meanwhile, and the server's RSS growth. -profile does not apply.
//
// With -profile DIR the server is internal/soak/pprofecho (whirl echo with
// net/http/pprof on loopback), and its heap profile is saved into DIR at the
// end of the load phase, to see what holds the memory. The server is killed
// if the tool dies. Linux only: it reads /proc.
//
// The report is a table on stdout, or JSON with -json. The exit status is 0
// when the run completed (whatever it measured), 1 when it could not run,
// and 2 for a usage error. docs/flow-control.md shows the results on a
// reference machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// errUsage marks a command line that cannot run.
var errUsage = errors.New("soak: usage")

// common holds the settings both subcommands take.
type common struct {
	server     string        // a whirl binary; built from ./cmd/whirl when empty
	serverArgs string        // extra flags for `whirl echo`, space-separated
	idle       time.Duration // time the idle server is sampled for
	every      time.Duration // RSS sampling interval
	profile    string        // where to save heap profiles; "" for none
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", "", "`path` of a whirl binary to run (default: build ./cmd/whirl)")
	fs.StringVar(&c.serverArgs, "server-args", "", "extra `flags` for whirl echo, space-separated (none: the default settings)")
	fs.DurationVar(&c.idle, "idle", time.Second, "how long the idle server is sampled before the test")
	fs.DurationVar(&c.every, "sample", 100*time.Millisecond, "RSS sampling `interval`")
	fs.StringVar(&c.profile, "profile", "", "run internal/soak/pprofecho (or the -server given, which must be one) and save its heap profile at the end of the load phase into `dir`")
}

// start runs the server: `whirl echo`, or `whirl <command>` when given.
func (c *common) start(ctx context.Context, command ...string) (*server, error) {
	cmd := []string{"echo"}
	if len(command) > 0 {
		cmd = command
	}
	return startServer(ctx, c.server, cmd, splitArgs(c.serverArgs), c.profile != "")
}

// splitArgs splits -server-args into flags.
func splitArgs(s string) []string { return strings.Fields(s) }

// saveProfile saves the server's heap profile if -profile asks for it.
func (c *common) saveProfile(srv *server, name string) string {
	if c.profile == "" {
		return ""
	}
	if err := os.MkdirAll(c.profile, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "soak: heap profile:", err)
		return ""
	}
	if err := srv.saveHeap(c.profile, name); err != nil {
		fmt.Fprintln(os.Stderr, "soak: heap profile:", err)
		return ""
	}
	return filepath.Join(c.profile, name+"-heap.pb.gz")
}

// byteSize is a flag value in bytes that accepts KiB, MiB and GiB (or K, M, G).
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q (want a number of bytes, KiB, MiB or GiB)", s)
	}
	return n << shift, nil
}

// formatBytes prints n in the largest binary unit that keeps it readable.
func formatBytes(n int64) string {
	switch a := max(n, -n); {
	case a >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:

	soak flood [flags]   -conns connections (default 1) each send -size bytes
	                     and read nothing; then a fresh client is served
	soak stuck [flags]   -conns connections send -request bytes and never read,
	                     while -good connections measure ping-pong latency
	soak headers [flags] -conns connections each send a frame header announcing
	                     -announce bytes (and -payload of them) to whirl
	                     framedecho, and hold
	soak chatflood [flags]
	                     against whirl chat: -flooders clients send lines for
	                     -duration and never read, -readers clients check
	                     every line, a probe client times its lines

Use "soak <command> -h" for a command's flags.
`)
}

// run runs the tool with args (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("soak "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var cm common
	cm.register(fs)
	var exec func() (any, error)
	switch args[0] {
	case "flood":
		cfg := floodConfig{}
		size, chunk := byteSize(1<<30), byteSize(256<<10)
		fs.Var(&size, "size", "`bytes` each connection sends without reading (a number, or with KiB, MiB, GiB)")
		fs.IntVar(&cfg.conns, "conns", 1, "connections that flood at once")
		fs.Var(&chunk, "chunk", "`bytes` per write")
		fs.DurationVar(&cfg.stall, "stall", 3*time.Second, "a write without progress for this long means the client was pushed back")
		fs.BoolVar(&cfg.verify, "verify", true, "afterwards, read the echo back while sending the rest, and check it")
		exec = func() (any, error) {
			cfg.size, cfg.chunk, cfg.common = int64(size), int(chunk), cm
			return runFlood(ctx, cfg)
		}
	case "stuck":
		cfg := stuckConfig{}
		request := byteSize(256 << 10)
		fs.IntVar(&cfg.conns, "conns", 1000, "connections that send and never read")
		fs.Var(&request, "request", "`bytes` each stuck connection sends")
		fs.IntVar(&cfg.good, "good", 10, "connections that measure ping-pong latency")
		fs.IntVar(&cfg.msg, "msg", 64, "bytes per ping")
		fs.DurationVar(&cfg.interval, "interval", 10*time.Millisecond, "time between pings on one good connection")
		fs.DurationVar(&cfg.baseline, "baseline", 3*time.Second, "how long latency is measured before the stuck connections come")
		fs.DurationVar(&cfg.hold, "hold", 5*time.Second, "how long the stuck connections are held once they stalled")
		fs.DurationVar(&cfg.stall, "stall", 2*time.Second, "a write without progress for this long means the connection was pushed back")
		exec = func() (any, error) {
			cfg.request, cfg.common = int64(request), cm
			return runStuck(ctx, cfg)
		}
	case "headers":
		cfg := headersConfig{}
		fs.IntVar(&cfg.conns, "conns", 20, "connections that each send one header and hold")
		fs.StringVar(&cfg.framing, "framing", "int32", "`framing` of the header: int32, int16, int8 or netstring")
		fs.Int64Var(&cfg.announce, "announce", 0, "`bytes` each header announces, also the server's --max-length (0: the largest the framing carries, at most 2^31-1)")
		fs.IntVar(&cfg.payload, "payload", 0, "`bytes` of the announced string sent after the header")
		fs.DurationVar(&cfg.hold, "hold", 3*time.Second, "how long the connections hold once they sent")
		exec = func() (any, error) {
			cfg.common = cm
			return runHeaders(ctx, cfg)
		}
	case "chatflood":
		cfg := chatConfig{}
		fs.IntVar(&cfg.flooders, "flooders", 100, "chat clients that send lines as fast as they can and never read")
		fs.IntVar(&cfg.readers, "readers", 10, "chat clients that read and check every line")
		fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the flooders flood")
		fs.IntVar(&cfg.line, "line", 100, "`bytes` per flooded line, without CR LF")
		fs.DurationVar(&cfg.interval, "interval", 10*time.Millisecond, "time between two probe lines")
		fs.DurationVar(&cfg.baseline, "baseline", 2*time.Second, "how long the probe runs before the flood")
		fs.DurationVar(&cfg.settle, "settle", 2*time.Second, "how long the probe runs after the flood")
		fs.BoolVar(&cfg.reconnect, "reconnect", true, "a flooder whose connection the server closed connects again and floods on")
		exec = func() (any, error) {
			cfg.common = cm
			return runChatFlood(ctx, cfg)
		}
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "soak: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soak %s: unexpected argument %q\n", args[0], fs.Arg(0))
		return 2
	}
	if cm.server == "" {
		dir, err := os.MkdirTemp("", "whirl-soak")
		if err != nil {
			fmt.Fprintln(stderr, "soak:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		if cm.server, err = buildServer(ctx, dir, cm.profile != ""); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	res, err := exec()
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "soak:", err)
			return 1
		}
		return 0
	}
	printTable(stdout, res)
	return 0
}

// printTable writes a result as a two-column table.
func printTable(w io.Writer, res any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	var m serverMemory
	switch r := res.(type) {
	case *floodResult:
		m = r.serverMemory
		row("test", fmt.Sprintf("flood: %d connection(s) send %s each, read nothing", r.Conns, formatBytes(r.Size)))
		row("written", fmt.Sprintf("%s of %s (%d bytes)", formatBytes(r.Written), formatBytes(r.Size*int64(r.Conns)), r.Written))
		if r.PushedBack {
			row("pushed back", fmt.Sprintf("yes, all %d: no write progress for %s, after %s of writing", r.Conns, r.Stall, r.FloodTime))
		} else {
			row("pushed back", fmt.Sprintf("%d of %d (writing took %s)", r.PushedBackConns, r.Conns, r.FloodTime))
		}
		if r.FreshServed {
			row("fresh client", "served, 64 B echoed in "+r.FreshRTT)
		} else {
			row("fresh client", "NOT served: "+r.FreshErr)
		}
		if r.WriteError != "" {
			row("write error", r.WriteError)
		}
		row("connection", r.Ended)
		if r.Echoed > 0 || r.VerifyErr != "" {
			v := fmt.Sprintf("%s read back in %s, verified %v", formatBytes(r.Echoed), r.VerifyTime, r.Verified)
			if r.VerifyErr != "" {
				v += ": " + r.VerifyErr
			}
			row("echo", v)
		}
		row("RSS peak during flood", formatBytes(r.LoadRSS))
	case *headersResult:
		m = r.serverMemory
		row("test", fmt.Sprintf("headers: %d connection(s) send a %s header announcing %d bytes and %d bytes of payload, then hold %s",
			r.Conns, r.Framing, r.Announced, r.Payload, r.Hold))
		row("connections open after hold", fmt.Sprintf("%d of %d", r.Open, r.Conns))
		if r.FreshServed {
			row("fresh client", "served, framed ping echoed in "+r.FreshRTT)
		} else {
			row("fresh client", "NOT served: "+r.FreshErr)
		}
		row("RSS peak while holding", formatBytes(r.LoadRSS))
	case *chatResult:
		m = r.serverMemory
		row("test", fmt.Sprintf("chatflood: %d clients flood %d-byte lines for %s without reading; %d readers; server args %q",
			r.Flooders, r.Line, r.Duration, r.Readers, r.ServerArgs))
		row("flooded", fmt.Sprintf("%d lines, %s written over %d connections (reconnect %v); connections ended: %s",
			r.FloodLines, formatBytes(r.FloodBytes), r.Connections, r.Reconnect, counts(r.FloodEnds)))
		row("delivered", fmt.Sprintf("%d distinct lines reached the readers; each got %d to %d", r.Delivered, r.ReaderLinesMin, r.ReaderLinesMax))
		row("readers", fmt.Sprintf("%d lines missing without a reason; %d told in band why not; %d closed by the server", r.Missing, r.Told, r.Ended))
		for _, w := range r.ToldWhy {
			row("told", w)
		}
		for _, l := range r.Probe {
			p99 := fmt.Sprintf("%.0f µs", l.P99)
			if l.P99 < 0 {
				p99 = "lost"
			}
			mx := fmt.Sprintf("%.0f µs", l.Max)
			if l.Max < 0 {
				mx = "lost"
			}
			row("probe "+l.Phase, fmt.Sprintf("p50 %.0f µs, p99 %s, max %s (%d probes in %s, %d lost)",
				l.P50, p99, mx, l.Sent, l.Duration, l.Lost))
		}
		row("RSS peak during flood", formatBytes(r.FloodRSS))
	case *stuckResult:
		m = r.serverMemory
		row("test", fmt.Sprintf("stuck: %d connections send %s each, never read; %d send %d B pings every %s",
			r.Conns, formatBytes(r.Request), r.Good, r.Msg, r.Interval))
		row("stuck connections", fmt.Sprintf("%d connected, %d sent all, %d pushed back (no progress for %s), %d failed; %s sent",
			r.Connected, r.Complete, r.PushedBack, r.Stall, r.Failed, formatBytes(r.Written)))
		row("RSS peak while stuck", formatBytes(r.LoadRSS))
		for _, l := range r.Latency {
			row("latency "+l.Phase, fmt.Sprintf("p50 %.0f µs, p99 %.0f µs, max %.0f µs (%d pings in %s, %d errors)",
				l.P50, l.P99, l.Max, l.Pings, l.Duration, l.Errors))
		}
	}
	row("RSS idle", formatBytes(m.IdleRSS))
	row("RSS peak (sampled)", fmt.Sprintf("%s (%d samples every %s)", formatBytes(m.PeakRSS), m.Samples, m.SampleEvery))
	row("RSS growth above idle", formatBytes(m.Growth))
	row("VmHWM (kernel's peak)", formatBytes(m.PeakHWM))
	row("Go heap peak at GC", fmt.Sprintf("%d MB (%d GCs)", m.HeapMB, m.GCs))
	row("server close reasons", counts(m.CloseReasons))
	row("server warnings", counts(m.Warnings))
	row("server exit", m.ServerExit)
	row("machine", fmt.Sprintf("%d CPUs, load average %.2f before, %.2f after", m.CPUs, m.LoadStart, m.LoadEnd))
	if m.Profile != "" {
		row("heap profile", m.Profile+" (go tool pprof -sample_index=inuse_space -top)")
	}
	tw.Flush()
}

// counts prints a count map as "n× key; ...", largest first.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d× %s", m[k], k)
	}
	return strings.Join(parts, "; ")
}
