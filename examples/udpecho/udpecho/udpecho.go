package udpecho

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// Echo sends every datagram back to where it came from.
type Echo struct{ protocol.DatagramBase }

// DatagramReceived writes data back to addr (WriteTo copies it, so the
// loop's buffer may be reused at once). Loop goroutine.
func (e *Echo) DatagramReceived(data []byte, addr net.Addr) {
	_ = e.Transport().WriteTo(data, addr)
}

// Listen binds addr with n sockets (at least one), each with its own Echo
// and so its own loop, sharing the address through SO_REUSEPORT when n > 1
// (the kernel spreads the peers over them), as gnet's engine does for UDP.
// opts apply to each port. Any goroutine.
func Listen(r *reactor.Reactor, addr string, n int, opts ...reactor.UDPOption) ([]*reactor.UDPPort, error) {
	addr, err := reactor.UDPAddress(addr)
	if err != nil {
		return nil, err
	}
	n = max(n, 1)
	if n > 1 {
		opts = append(opts[:len(opts):len(opts)], reactor.UDPListenMultiple(true))
	}
	first, err := r.ListenUDP(addr, &Echo{}, opts...)
	if err != nil {
		return nil, err
	}
	ports := []*reactor.UDPPort{first}
	if n > 1 {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			first.StopListening()
			return nil, err
		}
		same := net.JoinHostPort(host, strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port))
		for len(ports) < n {
			u, err := r.ListenUDP(same, &Echo{}, opts...)
			if err != nil {
				for _, u := range ports {
					u.StopListening()
				}
				return nil, err
			}
			ports = append(ports, u)
		}
	}
	return ports, nil
}

// Serve runs the echo on addr with loops event loops (0: GOMAXPROCS), one
// socket per loop, until ctx ends. ready, if not nil, gets the bound address
// once the sockets are bound. Any goroutine; it blocks.
func Serve(ctx context.Context, log zerolog.Logger, addr string, loops int, ready func(net.Addr), opts ...reactor.UDPOption) error {
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	r := reactor.New(reactor.WithLoops(loops), reactor.WithLogger(log))
	ports, err := Listen(r, addr, loops, opts...)
	if err != nil {
		return err
	}
	log.Info().Stringer("addr", ports[0].LocalAddr()).Int("sockets", len(ports)).Msg("UDP echo listening")
	if ready != nil {
		ready(ports[0].LocalAddr())
	}
	return r.Run(ctx)
}

// Run parses the command line of the udpecho server (--listen, --log-level,
// --loops) and serves until ctx ends. Usage goes to stderr and the log to
// logs. It returns flag.ErrHelp for -h and a *cli.UsageError for a command
// line it cannot run with. Any goroutine; it blocks.
func Run(ctx context.Context, name string, args []string, stderr io.Writer, logs *os.File, ready func(net.Addr)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "udp:8000", "UDP `address` to bind: udp:PORT[:interface=IP], or host:port (an empty host binds every address)")
	level := fs.String("log-level", cli.DefaultLogLevel, "trace, debug, info, warn, error or disabled")
	loops := fs.Int("loops", 0, "event loops, one socket each (0: one per CPU)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &cli.UsageError{Err: err}
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *loops < 0:
		err = fmt.Errorf("negative loop count %d", *loops)
	default:
		_, err = reactor.UDPAddress(*listen)
	}
	log, lerr := cli.NewLogger(logs, *level)
	if err == nil {
		err = lerr
	}
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return &cli.UsageError{Err: err}
	}
	return Serve(ctx, log, *listen, *loops, ready)
}
