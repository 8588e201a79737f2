// Package cli holds what whirl's command line and its runnable examples
// share: the logger they write to ([NewLogger]), the flags every server takes
// ([Flags]), and the loop that serves a factory on a listen address until a
// signal arrives ([Serve], [ServeReady]).
//
// A main function is a few lines:
//
//	func main() {
//		var fl cli.Flags
//		fl.Register(flag.CommandLine, "tcp:8000")
//		flag.Parse()
//		if err := fl.Check(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(2)
//		}
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		if err := fl.Serve(ctx, os.Stderr, echo.Factory(), nil); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// # Operations
//
// [Flags] embeds [Ops]: --log-format, --metrics (Prometheus /metrics through
// package whirlprom, and /debug/pprof/, served by net/http on goroutines of
// its own), --pid-file (zero-downtime restarts on SIGHUP with
// github.com/cloudflare/tableflip: the new process inherits the listening
// sockets and serves them with [reactor.Reactor.ListenFile]) and
// --stop-timeout. docs/operations.md is the operator's guide.
//
// # Goroutines
//
// Every function and method of the package may be called from any goroutine;
// the ones that serve block until their context is done.
package cli
