package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/cli"
	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

// logFile returns a file for a logger to write to; it is not a terminal, so
// the lines are JSON.
func logFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// logLines returns the JSON objects written to f.
func logLines(t *testing.T, f *os.File) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages that reach the file, of debug, info and error
	}{
		{"", []string{"info", "error"}},
		{"info", []string{"info", "error"}},
		{"INFO", []string{"info", "error"}},
		{"debug", []string{"debug", "info", "error"}},
		{"trace", []string{"debug", "info", "error"}},
		{"warn", []string{"error"}},
		{"error", []string{"error"}},
		{"disabled", nil},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			f := logFile(t)
			log, err := cli.NewLogger(f, tt.level)
			if err != nil {
				t.Fatalf("NewLogger(%q) error: %v", tt.level, err)
			}
			log.Debug().Msg("debug")
			log.Info().Msg("info")
			log.Error().Msg("error")
			var got []string
			for _, l := range logLines(t, f) {
				got = append(got, l["message"].(string))
				if _, ok := l["time"]; !ok {
					t.Errorf("log line %v has no time", l)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewLoggerBadLevel(t *testing.T) {
	for _, level := range []string{"loud", "nolevel", "info "} {
		t.Run(level, func(t *testing.T) {
			_, err := cli.NewLogger(logFile(t), level)
			if !errors.Is(err, cli.ErrLogLevel) {
				t.Errorf("NewLogger(%q) error = %v, want one matching ErrLogLevel", level, err)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    cli.Flags
		wantErr error // of Check
	}{
		{"defaults", nil, withDefaults(cli.Flags{Listen: "tcp:8000", LogLevel: "info"}), nil},
		{"all", []string{"--listen", "tcp:0:interface=127.0.0.1", "--log-level", "debug", "--loops", "2"},
			withDefaults(cli.Flags{Listen: "tcp:0:interface=127.0.0.1", LogLevel: "debug", Loops: 2}), nil},
		{"single dash", []string{"-listen=:9000", "-loops=1"}, withDefaults(cli.Flags{Listen: ":9000", LogLevel: "info", Loops: 1}), nil},
		{"bad listen", []string{"--listen", "stdio:"}, withDefaults(cli.Flags{Listen: "stdio:", LogLevel: "info"}), endpoint.ErrUnsupported},
		{"udp not served", []string{"--listen", "udp:53"}, withDefaults(cli.Flags{Listen: "udp:53", LogLevel: "info"}), endpoint.ErrUnsupported},
		{"unix", []string{"--listen", "unix:/tmp/x.sock"}, withDefaults(cli.Flags{Listen: "unix:/tmp/x.sock", LogLevel: "info"}), nil},
		{"limits", []string{"--idle-timeout", "0", "--write-stall-timeout", "10s", "--max-connections", "5", "--max-per-ip", "0"},
			cli.Flags{Listen: "tcp:8000", LogLevel: "info", WriteStallTimeout: 10 * time.Second, MaxConnections: 5, Processes: 1,
				Ops: cli.Ops{LogFormat: cli.LogAuto, StopTimeout: cli.DefaultStopTimeout}}, nil},
		{"negative limit", []string{"--max-per-ip", "-1"}, func() cli.Flags {
			f := withDefaults(cli.Flags{Listen: "tcp:8000", LogLevel: "info"})
			f.MaxPerIP = -1
			return f
		}(), cli.ErrLimit},
		{"port options", []string{"--listen", "tcp:8000:reuseport=1:idle=5m:stall=1m:maxwrite=1MiB"},
			withDefaults(cli.Flags{Listen: "tcp:8000:reuseport=1:idle=5m:stall=1m:maxwrite=1MiB", LogLevel: "info"}), nil},
		{"bad port option", []string{"--listen", "tcp:8000:idle=soon"}, withDefaults(cli.Flags{Listen: "tcp:8000:idle=soon", LogLevel: "info"}), endpoint.ErrSyntax},
		{"bad port", []string{"--listen", "tcp:70000"}, withDefaults(cli.Flags{Listen: "tcp:70000", LogLevel: "info"}), endpoint.ErrSyntax},
		{"bad level", []string{"--log-level", "loud"}, withDefaults(cli.Flags{Listen: "tcp:8000", LogLevel: "loud"}), cli.ErrLogLevel},
		{"negative loops", []string{"--loops", "-1"}, withDefaults(cli.Flags{Listen: "tcp:8000", LogLevel: "info", Loops: -1}), cli.ErrLoops},
		{"ops", []string{"--log-format", "json", "--metrics", "127.0.0.1:9100", "--pid-file", "/run/w.pid", "--stop-timeout", "3s"},
			withOps(cli.Ops{LogFormat: "json", Metrics: "127.0.0.1:9100", PIDFile: "/run/w.pid", StopTimeout: 3 * time.Second}), nil},
		{"restart unix", []string{"--listen", "unix:/tmp/x.sock", "--pid-file", "p"},
			func() cli.Flags { f := withOps(cli.Ops{PIDFile: "p"}); f.Listen = "unix:/tmp/x.sock"; return f }(), nil},
		{"bad log format", []string{"--log-format", "xml"}, withOps(cli.Ops{LogFormat: "xml"}), cli.ErrLogFormat},
		{"bad metrics", []string{"--metrics", "9100"}, withOps(cli.Ops{Metrics: "9100"}), cli.ErrMetricsAddr},
		{"bad metrics port", []string{"--metrics", ":http"}, withOps(cli.Ops{Metrics: ":http"}), cli.ErrMetricsAddr},
		{"negative stop timeout", []string{"--stop-timeout", "-1s"}, withOps(cli.Ops{StopTimeout: -time.Second}), cli.ErrLimit},
		{"restart systemd", []string{"--listen", "systemd:domain=INET:index=0", "--pid-file", "p"},
			func() cli.Flags {
				f := withOps(cli.Ops{PIDFile: "p"})
				f.Listen = "systemd:domain=INET:index=0"
				return f
			}(), cli.ErrRestart},
		{"restart reuseport", []string{"--listen", "tcp:8000:reuseport=1", "--pid-file", "p"},
			func() cli.Flags { f := withOps(cli.Ops{PIDFile: "p"}); f.Listen = "tcp:8000:reuseport=1"; return f }(), cli.ErrRestart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var got cli.Flags
			got.Register(fs, "tcp:8000")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("flags = %+v, want %+v", got, tt.want)
			}
			err := got.Check()
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Check() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// withDefaults returns f with the limits Register gives by default.
func withDefaults(f cli.Flags) cli.Flags {
	f.IdleTimeout = cli.DefaultIdleTimeout
	f.WriteStallTimeout = cli.DefaultWriteStallTimeout
	f.MaxConnections = cli.DefaultMaxConnections
	f.MaxPerIP = cli.DefaultMaxPerIP
	f.Processes = 1
	f.LogFormat = cli.LogAuto
	f.StopTimeout = cli.DefaultStopTimeout
	return f
}

// withOps returns the default flags with the operations flags o has set.
func withOps(o cli.Ops) cli.Flags {
	f := withDefaults(cli.Flags{Listen: "tcp:8000", LogLevel: "info"})
	if o.LogFormat != "" {
		f.LogFormat = o.LogFormat
	}
	if o.StopTimeout != 0 {
		f.StopTimeout = o.StopTimeout
	}
	f.Metrics, f.PIDFile = o.Metrics, o.PIDFile
	return f
}

func TestFlagsOptions(t *testing.T) {
	tests := []struct {
		loops   int
		want    int // number of options
		wantErr error
	}{
		{0, 4, nil},
		{4, 4, nil},
		{-1, 0, cli.ErrLoops},
	}
	for _, tt := range tests {
		fl := cli.Flags{Loops: tt.loops}
		opts, err := fl.Options()
		if len(opts) != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Flags{Loops: %d}.Options() = %d options, %v; want %d, %v", tt.loops, len(opts), err, tt.want, tt.wantErr)
		}
	}
}

// echoProto writes back what it receives.
type echoProto struct{ protocol.Base }

func (e *echoProto) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

func echoFactory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &echoProto{} })
}

// serve runs ServeReady in the background and returns the bound address and
// a channel that receives its result.
func serve(t *testing.T, ctx context.Context, log zerolog.Logger, listen string, opts ...reactor.Option) (net.Addr, <-chan error) {
	t.Helper()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- cli.ServeReady(ctx, log, listen, echoFactory(), func(a net.Addr) { ready <- a }, opts...)
	}()
	select {
	case addr := <-ready:
		return addr, done
	case err := <-done:
		t.Fatalf("ServeReady(%q) returned before listening: %v", listen, err)
	case <-time.After(5 * time.Second):
		t.Fatalf("ServeReady(%q) did not listen within 5s", listen)
	}
	return nil, nil
}

// wait waits up to 5 s for ServeReady's result.
func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("ServeReady did not return within 5s of its context ending")
		return nil
	}
}

func TestServeReady(t *testing.T) {
	tests := []struct {
		listen string
		opts   []reactor.Option
	}{
		{"tcp:0:interface=127.0.0.1", nil},
		{"tcp:port=0:interface=127.0.0.1:backlog=16", []reactor.Option{reactor.WithLoops(1)}},
		{"127.0.0.1:0", []reactor.Option{reactor.WithLoops(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			f := logFile(t)
			log, err := cli.NewLogger(f, "info")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			addr, done := serve(t, ctx, log, tt.listen, tt.opts...)

			conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			want := []byte("ping\n")
			if _, err := conn.Write(want); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(conn, got); err != nil {
				t.Fatalf("reading the echo: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("echo = %q, want %q", got, want)
			}

			cancel()
			if err := wait(t, done); err != nil {
				t.Errorf("ServeReady after cancel = %v, want nil", err)
			}
			if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("client read after stop = %d, %v; want EOF", n, err)
			}

			lines := logLines(t, f)
			var msgs []string
			for _, l := range lines {
				msgs = append(msgs, l["message"].(string))
				if l["message"] == "listening" {
					if got, want := l["addr"], addr.String(); got != want {
						t.Errorf(`"listening" addr = %v, want %v`, got, want)
					}
				}
			}
			joined := strings.Join(msgs, ",")
			if !strings.HasPrefix(joined, "listening,") || !strings.HasSuffix(joined, ",stopped") {
				t.Errorf("log messages = %q, want listening first and stopped last", msgs)
			}
		})
	}
}

// TestServePortOptions checks that the options of the port in the listen
// address reach the reactor: an idle= closes a silent connection.
func TestServePortOptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := serve(t, ctx, zerolog.Nop(), "tcp:0:interface=127.0.0.1:backlog=8:reuseport=1:idle=100ms:stall=1m:maxwrite=1MiB")
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read from a silent connection = %d, %v; want EOF once idle= closes it", n, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("the connection closed after %v, before its idle timeout of 100ms", d)
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("ServeReady after cancel = %v, want nil", err)
	}
}

func TestServeCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- cli.Serve(ctx, zerolog.Nop(), "tcp:0:interface=127.0.0.1", echoFactory()) }()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve with a cancelled context = %v, want nil", err)
	}
}

func TestServeErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name   string
		listen string
		want   error // nil: any error
	}{
		{"syntax", "tcp:99999", endpoint.ErrSyntax},
		{"unsupported", "stdio:", endpoint.ErrUnsupported},
		{"unix in a missing directory", "unix:/nonexistent-dir/x.sock", nil},
		{"udp", "udp:0:interface=127.0.0.1", endpoint.ErrUnsupported},
		{"systemd without sockets", "systemd:domain=INET:index=0", reactor.ErrNoSystemdSocket},
		{"in use", busy.Addr().String(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := cli.ServeReady(ctx, zerolog.Nop(), tt.listen, echoFactory(), func(net.Addr) { called = true })
			if err == nil {
				t.Fatalf("ServeReady(%q) = nil, want an error", tt.listen)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ServeReady(%q) = %v, want one matching %v", tt.listen, err, tt.want)
			}
			if called {
				t.Error("ready was called, want it not called when listening fails")
			}
		})
	}
}

func TestFlagsServe(t *testing.T) {
	f := logFile(t)
	fl := cli.Flags{Listen: "tcp:0:interface=127.0.0.1", LogLevel: "warn", Loops: 1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- fl.Serve(ctx, f, echoFactory(), func(a net.Addr) { ready <- a }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Serve returned before listening: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not listen within 5s")
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if lines := logLines(t, f); len(lines) != 0 {
		t.Errorf("logged %v at level warn, want nothing", lines)
	}

	for _, bad := range []cli.Flags{
		{Listen: "tcp:0", LogLevel: "loud"},
		{Listen: "tcp:0", Loops: -2},
		{Listen: ""},
	} {
		if err := bad.Serve(context.Background(), f, echoFactory(), nil); err == nil {
			t.Errorf("%+v.Serve = nil, want an error", bad)
		}
	}
}

// extraFlags is a cli.Extra with one flag that must be positive.
type extraFlags struct{ n int }

func (e *extraFlags) RegisterFlags(fs *flag.FlagSet) { fs.IntVar(&e.n, "n", 1, "a positive number") }
func (e *extraFlags) Check() error {
	if e.n <= 0 {
		return errors.New("-n must be positive")
	}
	return nil
}

func TestParseServerFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantErr   error // nil: parsed
		wantUsage bool
	}{
		{"defaults", nil, nil, false},
		{"all set", []string{"--listen", "tcp:0:interface=127.0.0.1", "--loops", "2", "-n", "3"}, nil, false},
		{"help", []string{"-h"}, flag.ErrHelp, false},
		{"unknown flag", []string{"--nope"}, nil, true},
		{"bad listen", []string{"--listen", "udp:53"}, nil, true},
		{"extra refuses", []string{"-n", "0"}, nil, true},
		{"left-over argument", []string{"more"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			var out bytes.Buffer
			fs.SetOutput(&out)
			var x extraFlags
			fl, err := cli.ParseServerFlags(fs, tt.args, "tcp:8000", &x)
			var ue *cli.UsageError
			switch {
			case tt.wantUsage:
				if !errors.As(err, &ue) || out.Len() == 0 {
					t.Fatalf("err %v (usage printed: %v), want a *UsageError with usage printed", err, out.Len() > 0)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || fl == nil || fl.Listen == "" {
					t.Fatalf("ParseServerFlags = %+v, %v", fl, err)
				}
			}
		})
	}
}

// TestFlagsServeLimits: --max-per-ip closes a peer's connection beyond the
// limit, and the server listens on a unix: endpoint.
func TestFlagsServeLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "limits.sock")
	fl := cli.Flags{Listen: "unix:" + path, LogLevel: "disabled", MaxPerIP: 1, MaxConnections: 10}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	go func() { done <- fl.Serve(ctx, devnull, echoFactory(), func(a net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		if a.String() != path {
			t.Fatalf("listening on %v, want %s", a, path)
		}
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	first, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := first.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := second.Read(make([]byte, 1)); err == nil {
		t.Fatalf("second connection of the same peer read %d bytes, want it closed", n)
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve after cancel = %v", err)
	}
}
