package cli_test

import (
	"flag"
	"fmt"
	"io"

	"github.com/whirl-go/whirl/cli"
)

// ExampleParseServerFlags parses a server's command line as every whirl
// server does, with the public-server defaults for what it does not set.
func ExampleParseServerFlags() {
	fs := flag.NewFlagSet("myserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fl, err := cli.ParseServerFlags(fs, []string{"--listen", "tcp:9000:interface=127.0.0.1", "--max-per-ip", "20"}, "tcp:8000")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fl.Listen)
	fmt.Println(fl.IdleTimeout, fl.WriteStallTimeout, fl.MaxConnections, fl.MaxPerIP)
	// Output:
	// tcp:9000:interface=127.0.0.1
	// 5m0s 1m0s 10000 20
}
