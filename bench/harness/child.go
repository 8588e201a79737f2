package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// Lines exchanged with the child processes. A server prints lineListening
// once, with the address its client dials (readyAddr: host:port, or
// unix:PATH); a Go server answers each "stats" line on its standard input
// with a lineStats line; every child stops when its standard input closes. A
// client prints lineMeasure and lineEnd around the measurement window
// (lineHolding once its idle connections are open) and lineResult last.
const (
	lineListening = "LISTENING "
	lineStats     = "STATS "
	lineMeasure   = "MEASURE"
	lineEnd       = "END"
	lineHolding   = "HOLDING "
	lineResult    = "RESULT "
	cmdStats      = "stats"
)

// ServerStats is what a Go server reports about its runtime.
type ServerStats struct {
	Mallocs    uint64 `json:"mallocs"`     // heap objects allocated so far
	HeapInuse  uint64 `json:"heap_inuse"`  // bytes in in-use heap spans
	StackInuse uint64 `json:"stack_inuse"` // bytes of goroutine stacks
	Goroutines int    `json:"goroutines"`
}

// stdoutLines serializes the lines a child prints.
type stdoutLines struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *stdoutLines) println(parts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parts {
		io.WriteString(s.w, p)
	}
	io.WriteString(s.w, "\n")
}

// serverMain runs `bench server`: one server until standard input closes.
func serverMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", servers.Whirl, "server kind: "+fmt.Sprint(servers.Kinds()))
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on: host:port, or unix:PATH for the UNIX servers")
	loops := fs.Int("loops", 0, "event loops for gnet and whirl (0: GOMAXPROCS)")
	buf := fs.Int("stdlib-buffer", 0, "read buffer per connection of the stdlib server (0: 16 KiB)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := fs.String("memprofile", "", "write a heap profile to this file at each statistics request (the last one stays)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !servers.Known(*kind) {
		fmt.Fprintf(stderr, "bench server: unknown kind %q (want one of %v)\n", *kind, servers.Kinds())
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "bench server:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench server:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &stdoutLines{w: stdout}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			if sc.Text() == cmdStats {
				<-ready
				if *memprofile != "" {
					if err := writeHeapProfile(*memprofile); err != nil {
						fmt.Fprintln(stderr, "bench server:", err)
					}
				}
				out.println(lineStats, marshal(readStats()))
			}
		}
		cancel() // standard input closed: stop
	}()
	done := make(chan error, 1)
	go func() {
		done <- servers.Serve(ctx, *kind, *listen, servers.Options{Loops: *loops, StdlibBuffer: *buf}, func(a net.Addr) {
			out.println(lineListening, readyAddr(a))
			close(ready)
		})
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// A graceful stop may wait for connections; the run is over, so
		// do not wait long for it.
		select {
		case err = <-done:
		case <-time.After(3 * time.Second):
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench server:", err)
		return 1
	}
	return 0
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows the heap as of the last collection
	werr := pprof.WriteHeapProfile(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

func readStats() ServerStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ServerStats{Mallocs: ms.Mallocs, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()}
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// clientMain runs `bench client`: one load against one server.
func clientMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", ModeEcho, "echo, setup, idle or udp")
	client := fs.String("client", loadgen.ClientGoroutine, "load generator: goroutine (a goroutine per connection) or whirl (whirl's client; echo mode only)")
	var cfg loadgen.Config
	fs.StringVar(&cfg.Addr, "addr", "", "server address host:port, or unix:PATH for a UNIX socket")
	fs.IntVar(&cfg.Conns, "conns", 100, "connections (setup: concurrent loops)")
	fs.IntVar(&cfg.Size, "size", 64, "message size in bytes")
	fs.IntVar(&cfg.Depth, "depth", 1, "messages in flight per connection")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before measuring")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "measurement window")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops of the whirl client (0: GOMAXPROCS)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case *client != loadgen.ClientGoroutine && *client != loadgen.ClientWhirl:
		fmt.Fprintf(stderr, "bench client: unknown client %q (want goroutine or whirl)\n", *client)
		return 2
	case *client == loadgen.ClientWhirl && *mode != ModeEcho:
		fmt.Fprintf(stderr, "bench client: the whirl client runs the echo mode only, not %q\n", *mode)
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "bench client:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench client:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	raiseFileLimit()
	out := &stdoutLines{w: stdout}
	cfg.OnPhase = func(p loadgen.Phase) {
		switch p {
		case loadgen.PhaseMeasure:
			out.println(lineMeasure)
		case loadgen.PhaseEnd:
			out.println(lineEnd)
		}
	}
	var (
		res loadgen.Result
		err error
	)
	switch *mode {
	case ModeEcho:
		if *client == loadgen.ClientWhirl {
			res, err = loadgen.RunWhirl(ctx, cfg)
		} else {
			res, err = loadgen.Run(ctx, cfg)
		}
	case ModeSetup:
		res, err = loadgen.Setup(ctx, cfg)
	case ModeUDP:
		res, err = loadgen.RunUDP(ctx, cfg)
	case ModeIdle:
		var h *loadgen.Held
		h, err = loadgen.Hold(ctx, cfg)
		if err == nil {
			out.println(lineHolding, marshal(h.Result))
			_, _ = io.Copy(io.Discard, stdin) // hold until told to stop
			h.Close()
			res = h.Result
		}
	default:
		var ok bool
		if res, err, ok = runGnetexClient(ctx, *mode, cfg); !ok {
			fmt.Fprintf(stderr, "bench client: unknown mode %q\n", *mode)
			return 2
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench client:", err)
		return 1
	}
	out.println(lineResult, marshal(res))
	return 0
}
