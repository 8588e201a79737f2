// Package cli runs a whirl server the way the `whirl` command runs its own:
// it is what the runnable examples use, and what a program of yours can use
// to get the same command line. It holds the logger ([NewLogger]), the flags
// every server takes ([Flags]: --listen with endpoint strings, the limits and
// timeouts, --loops, --processes, --metrics, --pid-file, ...), and the loop
// that serves a factory on the listen address until a signal arrives
// ([Serve], [ServeReady]).
//
// The whole main function of a server is one line:
//
//	func main() { os.Exit(cli.Main("echo", echo.Factory())) }
//
// or, to add flags of your own or handle errors yourself, a few:
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
