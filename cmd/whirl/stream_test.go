package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestStreamCommands runs whirl tcpecho and whirl seedserver and talks to
// each.
func TestStreamCommands(t *testing.T) {
	tests := []struct {
		name, send, want string
	}{
		{"tcpecho", "ping\nsecond\n", "ping\nsecond\n"},
		{"seedserver", "hello, seed\n", "HELLO, SEED\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, tt.name, "--listen", "tcp:0:interface=127.0.0.1", "--loops", "2")
			c := dialServer(t, addr)
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStreamCommandsUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help", "tcpecho"}, exitOK, "whirl tcpecho [flags]"},
		{[]string{"help", "seedserver"}, exitOK, `"tcp:8000"`},
		{[]string{"tcpecho", "--loops", "-1"}, exitUsage, "negative loop count"},
		{[]string{"seedserver", "--listen", "udp:53"}, exitUsage, "not supported"},
		{[]string{"seedserver", "extra"}, exitUsage, `unexpected argument "extra"`},
	} {
		env, stdout, stderr := testEnv(t)
		if code := runMain(context.Background(), tc.args, env); code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
		if out := stdout.String() + stderr.String(); !strings.Contains(out, tc.want) {
			t.Errorf("%q: output %q, want %q in it", tc.args, out, tc.want)
		}
	}
}
