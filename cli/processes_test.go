package cli_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/factory"
)

func TestProcessesFlag(t *testing.T) {
	tests := []struct {
		args []string
		want int
		err  error
	}{
		{nil, 1, nil},
		{[]string{"--processes", "4"}, 4, nil},
		{[]string{"--processes", "2", "--listen", "haproxy:tcp:8000"}, 2, nil},
		{[]string{"--processes", "2", "--listen", "tcp6:8000"}, 2, nil},
		{[]string{"--processes", "0"}, 0, nil},
		{[]string{"--processes", "-1"}, -1, cli.ErrProcesses},
		{[]string{"--processes", "2", "--listen", "unix:/tmp/x.sock"}, 2, cli.ErrProcesses},
		{[]string{"--processes", "2", "--listen", "systemd:domain=INET:index=0"}, 2, cli.ErrProcesses},
		{[]string{"--listen", "unix:/tmp/x.sock"}, 1, nil},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var fl cli.Flags
		fl.Register(fs, "tcp:8000")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if fl.Processes != tt.want {
			t.Errorf("%q: Processes = %d, want %d", tt.args, fl.Processes, tt.want)
		}
		if err := fl.Check(); !errors.Is(err, tt.err) {
			t.Errorf("%q: Check = %v, want %v", tt.args, err, tt.err)
		}
	}
}

// TestProcessesNeedsCommandLine: flags that were not parsed from this
// program's command line cannot be re-run as several processes.
func TestProcessesNeedsCommandLine(t *testing.T) {
	fl := cli.Flags{Listen: "tcp:0:interface=127.0.0.1", LogLevel: "disabled", Processes: 2}
	err := fl.Serve(context.Background(), logFile(t), factory.ForProtocol(nil), nil)
	if !errors.Is(err, cli.ErrProcesses) {
		t.Errorf("Serve = %v, want ErrProcesses", err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	parsed, err := cli.ParseServerFlags(fs, []string{"--processes", "2", "--log-level", "disabled", "--listen", "tcp:0:interface=127.0.0.1"}, "tcp:8000")
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Serve(context.Background(), logFile(t), factory.ForProtocol(nil), nil); !errors.Is(err, cli.ErrProcesses) {
		t.Errorf("Serve of flags not from os.Args = %v, want ErrProcesses", err)
	}
}
