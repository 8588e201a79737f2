// The tests are in package main, since a command's package cannot be
// imported by an external test package.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

func TestRelay(t *testing.T) {
	t.Run("help", func(t *testing.T) {
		env, stdout, stderr := testEnv(t)
		if got := runMain(context.Background(), []string{"help", "relay"}, env); got != exitOK {
			t.Errorf("whirl help relay = %d, want %d", got, exitOK)
		}
		for _, s := range []string{"whirl relay: pair connections", "whirl relay [flags]", "-listen", `"tcp:8000"`} {
			if !strings.Contains(stdout.String(), s) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, s)
			}
		}
		if stderr.Len() > 0 {
			t.Errorf("stderr = %q, want nothing", stderr)
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		env, _, stderr := testEnv(t)
		if got := runMain(context.Background(), []string{"relay", "--listen", "udp:53"}, env); got != exitUsage {
			t.Errorf("whirl relay --listen udp:53 = %d, want %d", got, exitUsage)
		}
		if !strings.Contains(stderr.String(), "whirl relay [flags]") {
			t.Errorf("stderr = %q, want the relay's usage", stderr)
		}
	})
	t.Run("pairs", func(t *testing.T) {
		env, _, stderr := testEnv(t)
		ready := make(chan net.Addr, 1)
		env.ready = func(a net.Addr) { ready <- a }
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- lookup("relay").run(ctx, env, []string{"--listen", "tcp:0:interface=127.0.0.1", "--loops", "2"})
		}()
		var addr net.Addr
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("relay returned before listening: %v (stderr %q)", err, stderr)
		case <-time.After(5 * time.Second):
			t.Fatal("relay did not listen within 5s")
		}

		var conns [2]net.Conn
		for i := range conns {
			c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		// Each side sends a message the other must receive; which connection
		// the server saw first does not matter.
		for i, msg := range []string{"from the first\n", "from the second\n"} {
			from, to := conns[i], conns[1-i]
			if _, err := from.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(to, got); err != nil {
				t.Fatalf("reading %q on the other side: %v", msg, err)
			}
			if string(got) != msg {
				t.Errorf("relayed %q, want %q", got, msg)
			}
		}
		// Closing one side closes the other.
		conns[0].Close()
		if n, err := conns[1].Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read after the partner closed = %d, %v; want EOF", n, err)
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("relay after cancel = %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("relay did not return within 10s of its context ending")
		}
		if stderr.Len() > 0 {
			t.Errorf("stderr = %q, want nothing (logs go to env.logs)", stderr)
		}
	})
}

// startServer runs the command name with args until the test ends, and
// returns the address it listens on. The command must stop by itself within
// 10s of its context ending, return nil, and write nothing to stderr.
func startServer(t *testing.T, name string, args ...string) string {
	t.Helper()
	addr, _ := runCommand(t, 10*time.Second, name, args...)
	return addr
}

// runCommand runs the command name with args until the test ends, and
// returns the address it listens on and its log file. The command must stop
// by itself within stop of its context ending, return nil, and write
// nothing to stderr.
func runCommand(t *testing.T, stop time.Duration, name string, args ...string) (string, *os.File) {
	t.Helper()
	env, _, stderr := testEnv(t)
	ready := make(chan net.Addr, 1)
	env.ready = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lookup(name).run(ctx, env, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s after cancel = %v, want nil", name, err)
			}
		case <-time.After(stop):
			t.Errorf("%s did not return within %v of its context ending", name, stop)
		}
		if stderr.Len() > 0 {
			t.Errorf("stderr = %q, want nothing (logs go to env.logs)", stderr)
		}
	})
	select {
	case addr := <-ready:
		return addr.String(), env.logs
	case err := <-done:
		t.Fatalf("%s returned before listening: %v (stderr %q)", name, err, stderr)
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not listen within 5s", name)
	}
	return "", nil
}

// dialServer connects to addr, with a 10s deadline on the connection.
func dialServer(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServerUsage checks the help and the flag errors of the commands with
// flags of their own.
func TestServerUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"help chat", []string{"help", "chat"}, exitOK,
			[]string{"whirl chat: line-based chat", "whirl chat [flags]", "-listen", "-max-length", "(default 16384)",
				"-sendq", "(default 1MiB)", "-sendq-hold", "(default 250ms)"}, nil},
		{"chat bad sendq", []string{"chat", "--sendq", "-1"}, exitUsage, nil,
			[]string{"bad --sendq", "whirl chat [flags]"}},
		{"chat sendq too small", []string{"chat", "--sendq", "8KiB"}, exitUsage, nil,
			[]string{"bad --sendq", "longest message", "whirl chat [flags]"}},
		{"chat bad sendq syntax", []string{"chat", "--sendq", "lots"}, exitUsage, nil,
			[]string{"-sendq", "bad size", "whirl chat [flags]"}},
		{"chat bad max", []string{"chat", "--max-length", "-1"}, exitUsage, nil,
			[]string{"negative --max-length", "whirl chat [flags]"}},
		{"chat bad max syntax", []string{"chat", "--max-length", "lots"}, exitUsage, nil,
			[]string{"-max-length", "whirl chat [flags]"}},
		{"chat extra arg", []string{"chat", "--max-length", "5", "extra"}, exitUsage, nil,
			[]string{`unexpected argument "extra"`}},
		{"help framedecho", []string{"help", "framedecho"}, exitOK,
			[]string{"whirl framedecho: echo each", "whirl framedecho [flags]", "-framing", "-max-length", "(default 99999)"}, nil},
		{"framedecho no framing", []string{"framedecho"}, exitUsage, nil,
			[]string{"--framing is required", "whirl framedecho [flags]"}},
		{"framedecho bad framing", []string{"framedecho", "--framing", "int64"}, exitUsage, nil,
			[]string{`unknown framing "int64"`, "whirl framedecho [flags]"}},
		{"framedecho bad max", []string{"framedecho", "--framing", "int8", "--max-length=-2"}, exitUsage, nil,
			[]string{"negative --max-length"}},
		{"framedecho bad listen", []string{"framedecho", "--framing", "int8", "--listen", "udp:53"}, exitUsage, nil,
			[]string{"not supported"}},
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

func TestChat(t *testing.T) {
	addr := startServer(t, "chat", "--listen", "tcp:0:interface=127.0.0.1", "--loops", "2", "--max-length", "20")
	type client struct {
		net.Conn
		r *bufio.Reader
	}
	connect := func() client {
		c := dialServer(t, addr)
		return client{c, bufio.NewReader(c)}
	}
	expect := func(c client, want string) {
		t.Helper()
		got, err := c.r.ReadString('\n')
		if err != nil || got != want+"\r\n" {
			t.Fatalf("read %q, %v; want %q", got, err, want+"\r\n")
		}
	}
	send := func(c client, s string) {
		t.Helper()
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
	}

	a := connect()
	expect(a, "WELCOME 1 users online")
	b := connect()
	expect(b, "WELCOME 2 users online")
	send(a, "NICK ann\r\nhello\r\nNICK ann\r\n")
	expect(a, "OK ann")
	expect(a, "OK ann") // not its own message
	expect(b, "ann: hello")
	// --max-length 20 reached the protocol.
	send(b, strings.Repeat("x", 21)+"\r\n")
	expect(b, "ERR line too long")
	if s, err := b.r.ReadString('\n'); s != "" || err != io.EOF {
		t.Errorf("read %q, %v after the long line; want EOF", s, err)
	}
	send(a, "/quit\r\n")
	expect(a, "BYE")
	if s, err := a.r.ReadString('\n'); s != "" || err != io.EOF {
		t.Errorf("read %q, %v after BYE; want EOF", s, err)
	}
}

func TestFramedecho(t *testing.T) {
	tests := []struct {
		framing string
		frames  []string // each frame as sent and echoed
		tooLong string   // the start of a frame over --max-length 8
	}{
		{"int32", []string{"\x00\x00\x00\x05hello", "\x00\x00\x00\x00"}, "\x00\x00\x00\x09"},
		{"int16", []string{"\x00\x05hello", "\x00\x00"}, "\x00\x09"},
		{"int8", []string{"\x05hello", "\x00"}, "\x09"},
		{"netstring", []string{"5:hello,", "0:,"}, "9:"},
	}
	for _, tt := range tests {
		t.Run(tt.framing, func(t *testing.T) {
			addr := startServer(t, "framedecho", "--framing", tt.framing, "--max-length", "8",
				"--listen", "tcp:0:interface=127.0.0.1", "--loops", "2")
			c := dialServer(t, addr)
			all := strings.Join(tt.frames, "")
			if _, err := io.WriteString(c, all+tt.tooLong); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("reading the echo: %v", err)
			}
			if string(got) != all {
				t.Errorf("echo = %q, then EOF; want %q, then EOF", got, all)
			}
		})
	}
}

func TestBenchBadFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runBench(context.Background(), &env{stdout: &out, stderr: &errOut}, []string{"--no-such-flag"})
	if !errors.Is(err, errBenchFailed) {
		t.Fatalf("runBench with a bad flag = %v, want errBenchFailed", err)
	}
	if errOut.Len() == 0 {
		t.Error("no usage message on stderr")
	}
}

func TestPortforward(t *testing.T) {
	usage := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"help", []string{"help", "portforward"}, exitOK,
			[]string{"whirl portforward: forward each connection", "whirl portforward [flags]", "-connect", "-listen", `"tcp:8000"`}, nil},
		{"no connect", []string{"portforward"}, exitUsage, nil,
			[]string{"--connect is required", "whirl portforward [flags]"}},
		{"bad connect", []string{"portforward", "--connect", "udp:127.0.0.1:53"}, exitUsage, nil,
			[]string{"is for servers only", "whirl portforward [flags]"}},
		{"bad listen", []string{"portforward", "--connect", "tcp:127.0.0.1:80", "--listen", "udp:53"}, exitUsage, nil,
			[]string{"not supported"}},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			env, stdout, stderr := testEnv(t)
			if got := runMain(context.Background(), tt.args, env); got != tt.wantCode {
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
		})
	}

	t.Run("forwards", func(t *testing.T) {
		// The destination: an echo server of the standard library's.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					_, _ = io.Copy(c, c)
				}()
			}
		}()
		addr := startServer(t, "portforward", "--listen", "tcp:0:interface=127.0.0.1", "--loops", "2",
			"--connect", "tcp:host=127.0.0.1:port="+strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")+":timeout=5")
		c := dialServer(t, addr)
		want := make([]byte, 1<<20)
		for i := range want {
			want[i] = byte(rand.IntN(256))
		}
		sent := make(chan error, 1)
		go func() {
			_, err := c.Write(want)
			sent <- err
		}()
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reading the echo through the forwarder: %v", err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Error("the echo through the forwarder differs from what was sent")
		}
	})

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dest := ln.Addr().String()
		ln.Close()
		addr := startServer(t, "portforward", "--listen", "127.0.0.1:0", "--connect", dest)
		c := dialServer(t, addr)
		if n, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read = %d, %v; want EOF once the forwarder could not connect", n, err)
		}
	})
}
