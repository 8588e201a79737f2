// The tests are in package main, since a command's package cannot be
// imported by an external test package.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv returns an env writing to buffers, with its log in a file (not a
// terminal, so JSON lines).
func testEnv(t *testing.T) (*env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	var stdout, stderr bytes.Buffer
	return &env{stdout: &stdout, stderr: &stderr, logs: logs}, &stdout, &stderr
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string
	}{
		{"no args", nil, exitUsage, nil, []string{"Usage:", "whirl <command>", "echo ", "help "}},
		{"help", []string{"help"}, exitOK, []string{"Usage:", "echo ", "Twisted's echoserv.py", "help "}, nil},
		{"-h", []string{"-h"}, exitOK, []string{"Usage:", "echo "}, nil},
		{"--help", []string{"--help"}, exitOK, []string{"Usage:", "echo "}, nil},
		{"help echo", []string{"help", "echo"}, exitOK, []string{"whirl echo [flags]", "-listen", "-log-level", "-loops", `"tcp:8000"`}, nil},
		{"help unknown", []string{"help", "nope"}, exitUsage, nil, []string{`unknown command "nope"`, "Usage:"}},
		{"help two", []string{"help", "echo", "extra"}, exitUsage, nil, []string{"too many arguments", "Usage:"}},
		{"unknown", []string{"nope"}, exitUsage, nil, []string{`whirl: unknown command "nope"`, "Usage:", "echo "}},
		{"echo -h", []string{"echo", "-h"}, exitOK, nil, []string{"whirl echo [flags]", "-listen"}},
		{"echo unknown flag", []string{"echo", "--bogus"}, exitUsage, nil, []string{"-bogus", "whirl echo [flags]"}},
		{"echo extra arg", []string{"echo", "extra"}, exitUsage, nil, []string{`unexpected argument "extra"`}},
		{"echo bad listen", []string{"echo", "--listen", "udp:53"}, exitUsage, nil, []string{"not supported", "whirl echo [flags]"}},
		{"echo bad port", []string{"echo", "--listen", "tcp:65536"}, exitUsage, nil, []string{"port"}},
		{"echo bad level", []string{"echo", "--log-level", "loud"}, exitUsage, nil, []string{"unknown log level"}},
		{"echo bad loops", []string{"echo", "--loops", "-1"}, exitUsage, nil, []string{"negative loop count"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, stdout, stderr := testEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got := runMain(ctx, tt.args, env); got != tt.wantCode {
				t.Errorf("runMain(%q) = %d, want %d", tt.args, got, tt.wantCode)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout = %q, want it to contain %q", stdout, s)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, s)
				}
			}
			if len(tt.wantStdout) == 0 && stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if len(tt.wantStderr) == 0 && stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

func TestCommandsTable(t *testing.T) {
	seen := map[string]bool{"help": true}
	for _, c := range commands {
		if c.name == "" || c.summary == "" || c.run == nil {
			t.Errorf("command %+v is incomplete", c)
		}
		if seen[c.name] {
			t.Errorf("command %q listed twice (or shadows help)", c.name)
		}
		seen[c.name] = true
		if got := lookup(c.name); got == nil || got.name != c.name {
			t.Errorf("lookup(%q) = %v, want the command", c.name, got)
		}
	}
	if got := lookup("nope"); got != nil {
		t.Errorf("lookup(%q) = %v, want nil", "nope", got)
	}
}

func TestEcho(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"default loops", []string{"--listen", "tcp:0:interface=127.0.0.1"}},
		{"one loop", []string{"--listen", "tcp:0:interface=127.0.0.1", "--loops", "1", "--log-level", "debug"}},
		{"host:port", []string{"--listen=127.0.0.1:0", "--loops=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _, stderr := testEnv(t)
			ready := make(chan net.Addr, 1)
			env.ready = func(a net.Addr) { ready <- a }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- lookup("echo").run(ctx, env, tt.args) }()

			var addr net.Addr
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("echo returned before listening: %v (stderr %q)", err, stderr)
			case <-time.After(5 * time.Second):
				t.Fatal("echo did not listen within 5s")
			}

			conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 8<<10)
			for i := range want {
				want[i] = byte(rand.IntN(256))
			}
			writeErr := make(chan error, 1)
			go func() {
				// Write in uneven pieces, as a client would.
				rest := want
				for len(rest) > 0 {
					n := min(len(rest), 1+rand.IntN(1500))
					if _, err := conn.Write(rest[:n]); err != nil {
						writeErr <- err
						return
					}
					rest = rest[n:]
				}
				writeErr <- nil
			}()
			got := make([]byte, len(want))
			if _, err := io.ReadFull(conn, got); err != nil {
				t.Fatalf("reading the echo: %v", err)
			}
			if err := <-writeErr; err != nil {
				t.Fatalf("writing: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Error("echo differs from what was sent")
			}

			// Stop with the connection still open: the graceful stop closes it.
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("echo after cancel = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("echo did not return within 5s of its context ending")
			}
			if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("client read after stop = %d, %v; want EOF", n, err)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing (logs go to env.logs)", stderr)
			}

			data, err := os.ReadFile(env.logs.Name())
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
				var m struct{ Message, Addr string }
				if err := json.Unmarshal(line, &m); err != nil {
					t.Fatalf("log line %q is not JSON: %v", line, err)
				}
				if m.Message == "listening" && m.Addr != addr.String() {
					t.Errorf(`"listening" addr = %q, want %q`, m.Addr, addr)
				}
				msgs = append(msgs, m.Message)
			}
			if len(msgs) < 2 || msgs[0] != "listening" || msgs[len(msgs)-1] != "stopped" {
				t.Errorf("log messages = %q, want listening first and stopped last", msgs)
			}
		})
	}
}
