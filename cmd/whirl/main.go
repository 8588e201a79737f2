// Command whirl runs servers written with whirl, as Twisted's twist command
// runs Twisted's plugins.
//
// Usage:
//
//	whirl <command> [flags]
//	whirl help [command]
//
// The commands are:
//
//	echo    write back every byte received (Twisted's echoserv.py)
//	relay   pair connections two by two and relay bytes between them
//	portforward
//	        forward each connection to --connect (Twisted's portforward)
//	chat    line-based chat room (CRLF lines; NICK, /quit)
//	framedecho
//	        echo int32, int16, int8 or netstring frames (--framing)
//	udpecho write back every UDP datagram received (--listen host:port)
//	tcpecho Tornado's demos/tcpecho server: each line comes back
//	seedserver
//	        the seed document's TcpServer, upper-casing each chunk
//	httpplain
//	        gnet's HTTP example: Hello World! over keep-alive and pipelining
//	push    gnet's push example: a timestamp line to every connection
//	simpleproto
//	        gnet's simple protocol server, or its client (simpleproto client)
//	websocket
//	        gnet's WebSocket example: an RFC 6455 echo server
//	unixecho
//	        gnet's UNIX-socket echo example (default unix:echo.sock)
//	bench   whirl against raw gnet, the standard library, Twisted and
//	        Tornado (see docs/benchmarks.md; same flags as go run ./bench)
//	version print whirl's version
//
// Every server command but udpecho takes --listen (Twisted's endpoint
// syntax, such as tcp:8000:interface=127.0.0.1, haproxy:tcp:8000 behind a
// proxy sending the PROXY protocol, or host:port), --log-level,
// --log-format, --loops, --processes (N processes sharing a tcp port with
// SO_REUSEPORT, as Tornado's TCPServer.start(N); see docs/deploy.md), the
// limits (--idle-timeout, --write-stall-timeout, --max-connections,
// --max-per-ip) and the operations flags: --metrics host:port serves
// Prometheus's /metrics and /debug/pprof/, --pid-file enables zero-downtime
// restarts on SIGHUP, --stop-timeout bounds a graceful stop. `whirl help
// <command>` lists every flag with its default. A server
// logs to stderr, readable on a terminal and JSON otherwise, and stops
// gracefully on SIGINT or SIGTERM. docs/operations.md is the operator's
// guide: metrics, restarts, systemd.
//
// The exit status is 0 after a graceful stop (the old process of a restart
// included) or a help or version request, 2 for a usage error (an unknown
// command or flag, a bad flag value), and 1 when the server could not start
// (the address is in use, say) or failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/examples/echo/echo"
	"github.com/whirl-go/whirl/examples/framedecho/framedecho"
	"github.com/whirl-go/whirl/examples/portforward/portforward"
	"github.com/whirl-go/whirl/examples/relay/relay"
	"github.com/whirl-go/whirl/examples/seedserver/seedserver"
	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
	"github.com/whirl-go/whirl/examples/udpecho/udpecho"
	"github.com/whirl-go/whirl/reactor"
)

// command is one subcommand of whirl. To add a server, write its run
// function with serverFlags and add it to commands.
type command struct {
	name    string
	summary string
	// run runs the command with the arguments after its name, until ctx is
	// done. A usage error is returned as a *cli.UsageError (the flag set has
	// already told the user), a help request as flag.ErrHelp.
	run func(ctx context.Context, env *env, args []string) error
}

// commands are whirl's subcommands, in the order usage lists them.
var commands = []command{
	{name: "echo", summary: "write back every byte received (Twisted's echoserv.py)", run: runEcho},
	{name: "relay", summary: "pair connections two by two and relay bytes between them", run: runRelay},
	{name: "portforward", summary: "forward each connection to --connect (Twisted's portforward)", run: runPortforward},
	{name: "chat", summary: "line-based chat room: CRLF lines, NICK <name>, /quit", run: runChat},
	{name: "framedecho", summary: "echo each int32, int16, int8 or netstring frame (--framing)", run: runFramedecho},
	{name: "udpecho", summary: "write back every UDP datagram received (--listen host:port)", run: runUDPEcho},
	{name: "tcpecho", summary: "Tornado's demos/tcpecho server: each line comes back (default tcp:9888)", run: runTCPEcho},
	{name: "seedserver", summary: "the seed document's TcpServer: each chunk comes back upper-cased", run: runSeedserver},
	{name: "httpplain", summary: "gnet's HTTP example: Hello World! over keep-alive and pipelining", run: runHTTPPlain},
	{name: "push", summary: "gnet's push example: a timestamp line to every connection on a ticker", run: runPush},
	{name: "simpleproto", summary: "gnet's simple protocol: length-prefixed echo server, or its client (simpleproto client)", run: runSimpleproto},
	{name: "websocket", summary: "gnet's WebSocket example: an RFC 6455 echo server", run: runWebSocket},
	{name: "unixecho", summary: "gnet's UNIX-socket echo example (default unix:echo.sock)", run: runUnixEcho},
	{name: "bench", summary: "benchmark whirl against raw gnet, stdlib, Twisted and Tornado (docs/benchmarks.md)", run: runBench},
	{name: "version", summary: "print whirl's version", run: runVersion},
}

// env is what a command gets from the process.
type env struct {
	stdout io.Writer // help output
	stderr io.Writer // usage errors
	logs   *os.File  // the server's log (os.Stderr)
	// ready, if not nil, is called with the bound address once a server
	// listens; tests use it to learn the port.
	ready func(net.Addr)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, logs: os.Stderr})
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// runMain runs whirl with args (without the program name) and returns the
// exit status.
func runMain(ctx context.Context, args []string, env *env) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 0 {
			usage(env.stdout)
			return exitOK
		}
		cmd := lookup(args[0])
		switch {
		case len(args) > 1:
			fmt.Fprintf(env.stderr, "whirl help: too many arguments: %q\n\n", args)
			usage(env.stderr)
			return exitUsage
		case cmd == nil:
			fmt.Fprintf(env.stderr, "whirl help: unknown command %q\n\n", args[0])
			usage(env.stderr)
			return exitUsage
		}
		fmt.Fprintf(env.stdout, "whirl %s: %s.\n\n", cmd.name, cmd.summary)
		helpEnv := *env
		helpEnv.stderr = env.stdout
		return status(env, cmd, cmd.run(ctx, &helpEnv, []string{"-h"}))
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(env.stderr, "whirl: unknown command %q\n\n", name)
		usage(env.stderr)
		return exitUsage
	}
	return status(env, cmd, cmd.run(ctx, env, args))
}

// status turns what a command returned into an exit status, reporting errors
// other than usage errors on stderr.
func status(env *env, cmd *command, err error) int {
	var ue *cli.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	default:
		fmt.Fprintf(env.stderr, "whirl %s: %v\n", cmd.name, err)
		return exitError
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// usage prints whirl's usage, listing the commands, to w.
func usage(w io.Writer) {
	fmt.Fprint(w, "whirl runs servers written with whirl.\n\nUsage:\n\n\twhirl <command> [flags]\n\nThe commands are:\n\n")
	lines := append(commands[:len(commands):len(commands)], command{name: "help", summary: "print this help, or a command's flags"})
	width := 0
	for _, c := range lines {
		width = max(width, len(c.name))
	}
	for _, c := range lines {
		fmt.Fprintf(w, "\t%-*s    %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, "\nUse \"whirl help <command>\" for a command's flags.\n"+
		"Servers stop gracefully on SIGINT or SIGTERM, and restart without downtime\n"+
		"on SIGHUP when run with --pid-file (docs/operations.md).\n"+
		exitStatuses)
}

// serverFlags parses a server command's flags with cli.ParseServerFlags, on
// a flag set named after the command that writes to env.stderr.
func serverFlags(env *env, name, listen string, args []string, extras ...cli.Extra) (*cli.Flags, error) {
	fs := flag.NewFlagSet("whirl "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: whirl %s [flags]\n\nFlags:\n", name)
		cli.PrintDefaults(fs)
	}
	return cli.ParseServerFlags(fs, args, listen, extras...)
}

// runEcho runs Twisted's echo server, examples/echo.
func runEcho(ctx context.Context, env *env, args []string) error {
	fl, err := serverFlags(env, "echo", "tcp:8000", args)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, echo.Factory(), env.ready)
}

// runUnixEcho runs gnet's UNIX-socket echo, examples/unixecho: the echo on
// a UNIX socket by default.
func runUnixEcho(ctx context.Context, env *env, args []string) error {
	fl, err := serverFlags(env, "unixecho", "unix:echo.sock", args)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, echo.Factory(), env.ready)
}

// runRelay runs the pairing relay, examples/relay.
func runRelay(ctx context.Context, env *env, args []string) error {
	fl, err := serverFlags(env, "relay", "tcp:8000", args)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, &relay.Factory{}, env.ready)
}

// runPortforward runs the port forwarder, examples/portforward. Its factory
// connects out with the reactor that serves it, which it is given once the
// reactor is made.
func runPortforward(ctx context.Context, env *env, args []string) error {
	f := &portforward.Factory{}
	fl, err := serverFlags(env, "portforward", "tcp:8000", args, f)
	if err != nil {
		return err
	}
	return fl.ServeReactor(ctx, env.logs, f, env.ready, func(r *reactor.Reactor, log zerolog.Logger) {
		f.Reactor, f.Log = r, log
	})
}

// runChat runs the line chat, examples/chat.
func runChat(ctx context.Context, env *env, args []string) error {
	f := &chat.Factory{}
	fl, err := serverFlags(env, "chat", "tcp:8000", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}

// runFramedecho runs the framed echo, examples/framedecho.
func runFramedecho(ctx context.Context, env *env, args []string) error {
	f := &framedecho.Factory{}
	fl, err := serverFlags(env, "framedecho", "tcp:8000", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}

// runUDPEcho runs the UDP echo, examples/udpecho.
func runUDPEcho(ctx context.Context, env *env, args []string) error {
	return udpecho.Run(ctx, "whirl udpecho", args, env.stderr, env.logs, env.ready)
}

// runTCPEcho runs Tornado's tcpecho server, examples/tcpecho.
func runTCPEcho(ctx context.Context, env *env, args []string) error {
	return tcpecho.Run(ctx, "whirl tcpecho", args, env.stderr, env.logs, env.ready)
}

// runSeedserver runs the seed document's server, examples/seedserver.
func runSeedserver(ctx context.Context, env *env, args []string) error {
	return seedserver.Run(ctx, "whirl seedserver", args, env.stderr, env.logs, env.ready)
}

// errBenchFailed is returned by runBench when the benchmark reported a failure
// (it has printed why).
var errBenchFailed = errors.New("whirl: benchmark failed")

// runBench runs the benchmark matrix of bench/ (docs/benchmarks.md). Its
// servers and load generators are this same program, re-run as
// "whirl bench server ..." and "whirl bench client ...".
func runBench(ctx context.Context, env *env, args []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if code := harness.Main(ctx, harness.Command{Path: self, Args: []string{"bench"}}, args, os.Stdin, env.stdout, env.stderr); code != 0 {
		return errBenchFailed
	}
	return nil
}
