package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/whirl-go/whirl/cli"
)

// exitStatuses documents the exit statuses, for usage.
const exitStatuses = `
Exit status:

	0    a graceful stop (SIGINT, SIGTERM, or the old process of a restart
	     once it has drained), or a help or version request
	1    the server could not start (the address is in use, say) or failed
	2    a usage error: an unknown command or flag, a bad flag value
`

// runVersion prints whirl's version, the Go version it was built with, and
// the system it runs on.
func runVersion(_ context.Context, env *env, args []string) error {
	fs := flag.NewFlagSet("whirl version", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "Usage: whirl version\n") }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &cli.UsageError{Err: err}
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return &cli.UsageError{Err: err}
	}
	fmt.Fprintf(env.stdout, "whirl %s %s %s/%s\n", cli.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
