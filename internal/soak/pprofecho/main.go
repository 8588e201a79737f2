// Command pprofecho is `whirl echo` with Go's profiler on: the server that
// `soak -profile` runs, to see what holds a server's memory under load.
//
// Usage:
//
//	pprofecho echo [--listen tcp:8000] [--log-level info] [--loops 0] [--pprof 127.0.0.1:0]
//
// It takes the flags of `whirl echo`, plus --pprof, the loopback address
// where net/http/pprof answers (/debug/pprof/heap and the rest). It logs that
// address as "pprof listening" with the field "addr", after the echo
// server's own "listening" line. It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the profiler's handlers on http.DefaultServeMux
	"os"
	"os/signal"
	"syscall"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/echo/echo"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "echo" {
		fmt.Fprintln(os.Stderr, "usage: pprofecho echo [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("pprofecho echo", flag.ExitOnError)
	var fl cli.Flags
	fl.Register(fs, "tcp:8000")
	pprofAddr := fs.String("pprof", "127.0.0.1:0", "loopback `address` of the profiler's HTTP server")
	_ = fs.Parse(os.Args[2:])
	if err := fl.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "pprofecho:", err)
		os.Exit(2)
	}
	log, err := cli.NewLogger(os.Stderr, fl.LogLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofecho:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofecho:", err)
		os.Exit(1)
	}
	go func() { _ = http.Serve(ln, nil) }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, _ := fl.Options()
	err = cli.ServeReady(ctx, log, fl.Listen, echo.Factory(), func(net.Addr) {
		log.Info().Str("addr", ln.Addr().String()).Msg("pprof listening")
	}, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofecho:", err)
		os.Exit(1)
	}
}
