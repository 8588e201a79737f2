package cli_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/cli"
)

func TestNewLoggerFormat(t *testing.T) {
	tests := []struct {
		format   string
		wantJSON bool
	}{
		{"", true}, // a file is no terminal
		{cli.LogAuto, true},
		{cli.LogJSON, true},
		{cli.LogConsole, false},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f := logFile(t)
			log, err := cli.NewLoggerFormat(f, "info", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			log.Debug().Msg("hidden")
			log.Info().Str("k", "v").Msg("shown")
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			out := string(b)
			if strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
				t.Errorf("level not applied: %q", out)
			}
			if isJSON := strings.HasPrefix(out, "{"); isJSON != tt.wantJSON {
				t.Errorf("format %q wrote %q", tt.format, out)
			}
			if !tt.wantJSON && (!strings.Contains(out, "k=v") || strings.Contains(out, "\x1b[")) {
				t.Errorf("console format to a file: %q, want k=v without colours", out)
			}
		})
	}
	if _, err := cli.NewLoggerFormat(logFile(t), "info", "xml"); !errors.Is(err, cli.ErrLogFormat) {
		t.Errorf("format xml: %v, want ErrLogFormat", err)
	}
	if _, err := cli.NewLoggerFormat(logFile(t), "loud", "json"); !errors.Is(err, cli.ErrLogLevel) {
		t.Errorf("level loud: %v, want ErrLogLevel", err)
	}
}

func TestPrintDefaults(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.String("name", "", "the `name` to use")
	fs.Int("n", 0, "a number")
	fs.Bool("v", false, "verbose")
	fs.Duration("wait", time.Second, "how long to wait")
	cli.PrintDefaults(fs)
	want := "  -n int\n    \ta number (default 0)\n" +
		"  -name name\n    \tthe name to use (default \"\")\n" +
		"  -v\tverbose (default false)\n" +
		"  -wait duration\n    \thow long to wait (default 1s)\n"
	if out.String() != want {
		t.Errorf("PrintDefaults:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestParseServerFlagsPrintDefaults(t *testing.T) {
	fs := flag.NewFlagSet("srv", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "Usage of srv:\n"); cli.PrintDefaults(fs) }
	if _, err := cli.ParseServerFlags(fs, []string{"-h"}, "tcp:8000"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, s := range []string{"Usage of srv:", "-loops number", "(default 0)", "-metrics host:port", `(default "")`, "-stop-timeout duration", "(default 10s)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("usage without %q:\n%s", s, out.String())
		}
	}
}

func TestVersion(t *testing.T) {
	if v := cli.Version(); v == "" || strings.ContainsAny(v, "\n") {
		t.Errorf("Version() = %q", v)
	}
}

// TestFlagsServeMetrics serves with --metrics on port 0 and checks that
// the metrics address is logged and answers, and that a bad one is refused
// before the server listens.
func TestFlagsServeMetrics(t *testing.T) {
	f := logFile(t)
	fl := cli.Flags{Listen: "tcp:0:interface=127.0.0.1", Loops: 1, Ops: cli.Ops{Metrics: "127.0.0.1:0", LogFormat: cli.LogJSON}}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- fl.Serve(ctx, f, echoFactory(), func(a net.Addr) { ready <- a }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	var metrics string
	for _, l := range logLines(t, f) {
		if l["message"] == "started" {
			metrics, _ = l["metrics"].(string)
			if l["pid"] != float64(os.Getpid()) {
				t.Errorf("started line: pid %v, want %d", l["pid"], os.Getpid())
			}
		}
	}
	if metrics == "" {
		t.Fatal("no metrics address in the started line")
	}
	c, err := net.Dial("tcp", metrics)
	if err != nil {
		t.Fatalf("metrics address: %v", err)
	}
	c.Close()
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if c, err := net.Dial("tcp", metrics); err == nil {
		c.Close()
		t.Error("the metrics server still answers after Serve returned")
	}

	// The address is in use: Serve fails before it listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fl.Metrics = ln.Addr().String()
	err = fl.Serve(context.Background(), logFile(t), echoFactory(), func(net.Addr) { t.Error("listened although --metrics failed") })
	if err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("Serve with the metrics address in use: %v", err)
	}
}

func TestSDNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if err := cli.SDNotify("READY=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Errorf("read %q, %v; want READY=1", buf[:n], err)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if err := cli.SDNotify("READY=1"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
}
