package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// syncBuffer is a bytes.Buffer safe from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func stderrFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"help", []string{"-h"}, exitOK, "-initial-delay"},
		{"bad connect", []string{"--connect", "udp:127.0.0.1:53"}, exitUsage, "for servers only"},
		{"bad delay", []string{"--initial-delay", "0s"}, exitUsage, "must be positive"},
		{"bad heartbeat", []string{"--heartbeat", "-1s"}, exitUsage, "must not be negative"},
		{"bad level", []string{"--log-level", "loud"}, exitUsage, "unknown log level"},
		{"extra", []string{"extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := stderrFile(t)
			if got := run(context.Background(), tt.args, strings.NewReader(""), io.Discard, stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
			out, _ := os.ReadFile(stderr.Name())
			if !strings.Contains(string(out), tt.msg) {
				t.Errorf("stderr = %q, want it to contain %q", out, tt.msg)
			}
		})
	}
}

type lineEcho struct{ protocol.LineReceiver }

func (e *lineEcho) LineReceived(line []byte) { _ = e.SendLine(line) }

// TestRun runs the command against a line echo: the heartbeat and a line
// from stdin come back on stdout, and it stops when its context ends.
func TestRun(t *testing.T) {
	port := reactortest.Serve(t, factory.ForProtocol(func() protocol.Protocol { return &lineEcho{} }))
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	var stdout syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--connect", port.Addr().String(), "--heartbeat", "10ms", "--log-level", "debug"},
			stdinR, &stdout, stderrFile(t))
	}()
	waitOut := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), want); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stdout = %q after 5s, want it to contain %q", stdout.String(), want)
			}
		}
	}
	waitOut("PING 1\n")
	if _, err := io.WriteString(stdinW, "hello from stdin\n"); err != nil {
		t.Fatal(err)
	}
	waitOut("hello from stdin\n")
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("run after cancel = %d, want %d", code, exitOK)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of its context ending")
	}
}
