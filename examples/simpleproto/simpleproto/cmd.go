package simpleproto

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/reactor"
)

// ErrClientsFailed is returned by RunClientCommand when a client failed (it
// has printed why).
var ErrClientsFailed = errors.New("simpleproto: clients failed")

// RunClientCommand runs the client command line (gnet's client's flags:
// --address, --concurrency, --packet-size, --packet-batch, --packet-count),
// prints a summary to stdout and each failure to stderr, and returns nil
// when every client got every echo back. A bad flag gives a
// *cli.UsageError (already printed), -h flag.ErrHelp. Any goroutine; it
// blocks until the clients are done or ctx ends.
func RunClientCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg ClientConfig
	fs.StringVar(&cfg.Addr, "address", "127.0.0.1:9000", "server `host:port`")
	fs.IntVar(&cfg.Conns, "concurrency", 100, "`number` of clients, one connection each")
	fs.IntVar(&cfg.Size, "packet-size", 1024, "body `bytes` of each packet")
	fs.IntVar(&cfg.Batch, "packet-batch", 100, "packets sent in one write before reading their echoes")
	fs.IntVar(&cfg.Count, "packet-count", 100, "batches each client sends")
	loops := fs.Int("loops", 0, "`number` of event loops (0: one per CPU)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &cli.UsageError{Err: err}
	}
	if err := cfg.defaults(); err != nil || fs.NArg() > 0 || *loops < 0 {
		if err == nil {
			err = fmt.Errorf("%w: unexpected argument or negative --loops", ErrConfig)
		}
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return &cli.UsageError{Err: err}
	}
	start := time.Now()
	res, err := RunClients(ctx, cfg, reactor.WithLoops(*loops))
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "%d of %d clients done: %d packets of %d bytes echoed and checked in %v (%.0f packets/s)\n",
		res.Clients, cfg.Conns, res.Packets, cfg.Size, elapsed.Round(time.Millisecond), float64(res.Packets)/elapsed.Seconds())
	for _, e := range res.Errors {
		fmt.Fprintln(stderr, e)
	}
	if len(res.Errors) > 0 {
		return ErrClientsFailed
	}
	return nil
}
