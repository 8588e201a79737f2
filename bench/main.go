// Command bench is whirl's benchmark: it runs raw gnet, whirl, whirl's
// LineReceiver, the Go standard library, Twisted and Tornado echo servers
// side by side under the same load, and prints each one's ratio to raw gnet.
//
// Usage, from the module's root:
//
//	go run ./bench                       # the full matrix, a few minutes
//	go run ./bench --smoke               # a few seconds, as CI runs it
//	go run ./bench --servers gnet,whirl --scenarios pingpong-64B-100c --rounds 5
//	go run ./bench --cpuprofile-dir /tmp/prof   # a CPU profile per Go server cell
//	go run ./bench --client whirl        # the echo scenarios driven by whirl's own client
//	go run ./bench --servers gnet-unix,whirl-unix --scenarios unix-pingpong-64B-100c,unix-pipelined-4KiB-100c
//	go run ./bench clients               # both load generators against gnet and whirl
//
// Every cell runs in a fresh server process (this program's `server`
// subcommand, or a script of bench/python) and a fresh load-generator
// process (`client`), pinned to separate CPUs with taskset when it exists.
// It measures on Linux only (it reads /proc); see package harness.
// The table goes to standard output; results.json, results.md and
// results.svg go to --out (bench/results). See docs/benchmarks.md and
// `go run ./bench -h`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/bench/harness"
)

func main() {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := harness.Main(ctx, harness.Command{Path: self}, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
