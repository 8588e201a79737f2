package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestUDPEchoCommand(t *testing.T) {
	env, _, stderr := testEnv(t)
	ready := make(chan net.Addr, 1)
	env.ready = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lookup("udpecho").run(ctx, env, []string{"--listen", "127.0.0.1:0", "--loops", "2"}) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("udpecho returned before listening: %v (stderr %q)", err, stderr)
	case <-time.After(5 * time.Second):
		t.Fatal("udpecho did not listen within 5s")
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	b := make([]byte, 16)
	if n, err := c.Read(b); err != nil || string(b[:n]) != "ping" {
		t.Fatalf("echo %q, %v", b[:n], err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("udpecho: %v", err)
	}
}

func TestUDPEchoUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help", "udpecho"}, exitOK, "whirl udpecho [flags]"},
		{[]string{"udpecho", "--loops", "-1"}, exitUsage, "negative loop count"},
		{[]string{"udpecho", "--log-level", "loud"}, exitUsage, "unknown log level"},
		{[]string{"udpecho", "extra"}, exitUsage, `unexpected argument "extra"`},
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
