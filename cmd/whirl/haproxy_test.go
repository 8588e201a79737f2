package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/haproxytest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// chatClient is one chat user: it reports each line it gets, and its
// local address on each connection.
type chatClient struct {
	protocol.LineReceiver
	f *chatClientFactory
}

func (c *chatClient) ConnectionMade() {
	c.f.conns <- c.Transport().LocalAddr().String()
}

func (c *chatClient) LineReceived(line []byte) { c.f.lines <- string(line) }

// chatClientFactory reconnects through HAProxy whenever it loses the
// connection: Twisted's ReconnectingClientFactory, quick.
type chatClientFactory struct {
	factory.Reconnecting
	conns chan string // the local address of each connection made
	lines chan string // every line received
	cur   *chatClient // loop goroutine only
}

func newChatClientFactory() *chatClientFactory {
	f := &chatClientFactory{conns: make(chan string, 16), lines: make(chan string, 256)}
	f.InitialDelay = 50 * time.Millisecond
	f.Factor = 1.5
	f.MaxDelay = 500 * time.Millisecond
	f.Jitter = -1
	return f
}

func (f *chatClientFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.ResetDelay()
	f.cur = &chatClient{f: f}
	return f.cur
}

// send writes a line on the current connection, on its loop.
func (f *chatClientFactory) send(r *reactor.Reactor, line string) {
	done := make(chan struct{})
	r.CallFromGoroutine(func() {
		defer close(done)
		if f.cur != nil {
			_ = f.cur.SendLine([]byte(line))
		}
	})
	<-done
}

// expectConn waits for a new connection and returns its local address.
func (f *chatClientFactory) expectConn(t *testing.T) string {
	t.Helper()
	select {
	case a := <-f.conns:
		return a
	case <-time.After(15 * time.Second):
		t.Fatal("no (re)connection through HAProxy within 15 s")
		return ""
	}
}

// expectLine waits for a line starting with prefix, skipping others.
func (f *chatClientFactory) expectLine(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-f.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line starting with %q within 10 s", prefix)
			return ""
		}
	}
}

const haproxyConfig = `global
	maxconn 256

defaults
	mode tcp
	timeout connect 1s
	timeout client 60s
	timeout server 60s
	retries 3
	option redispatch

frontend chat
	bind 127.0.0.1:%d
	default_backend whirl

backend whirl
	balance first
	server a %s %s check inter 100ms fall 1 rise 1
	server b %s %s check inter 100ms fall 1 rise 1
`

// startHAProxy runs Debian's haproxy with the test's config, front on
// 127.0.0.1:front and the two whirl servers a and b behind it.
func startHAProxy(t *testing.T, front int, sendProxy, a, b string) {
	t.Helper()
	haproxytest.Start(t, fmt.Sprintf(haproxyConfig, front, a, sendProxy, b, sendProxy), front)
}

// TestBehindHAProxy runs a real HAProxy (send-proxy, then send-proxy-v2) in
// front of two "whirl chat --listen haproxy:tcp:..." processes. The chat
// names each client by its address, so the line another client gets shows
// the address the server saw: it must be the client's own (bound to
// 127.0.0.2 and 127.0.0.3, where HAProxy connects from 127.0.0.1). Then
// the process serving them stops; the clients, reconnecting through
// HAProxy (factory.Reconnecting over ConnectTCP), reach the other one and
// chat on.
func TestBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and two whirl processes")
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not installed (apt-get install haproxy): skipping the test against a real HAProxy")
	}
	for _, sendProxy := range []string{"send-proxy", "send-proxy-v2"} {
		t.Run(sendProxy, func(t *testing.T) {
			a := startWhirl(t, "chat", "--listen", "haproxy:tcp:0:interface=127.0.0.1", "--loops", "2")
			b := startWhirl(t, "chat", "--listen", "haproxy:tcp:0:interface=127.0.0.1", "--loops", "2")
			front := haproxytest.FreePort(t)
			startHAProxy(t, front, sendProxy, a.addr(), b.addr())

			r := reactor.New(reactor.WithLoops(1))
			reactortest.Run(t, r)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			frontAddr := fmt.Sprintf("127.0.0.1:%d", front)
			alice, bob := newChatClientFactory(), newChatClientFactory()
			for _, c := range []struct {
				f    *chatClientFactory
				bind string
			}{{alice, "127.0.0.2"}, {bob, "127.0.0.3"}} {
				conn, err := r.ConnectTCP(ctx, frontAddr, c.f, reactor.WithBindAddress(c.bind))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					done := make(chan struct{})
					r.CallFromGoroutine(func() { c.f.StopTrying(); conn.Disconnect(); close(done) })
					<-done
				})
			}

			chat := func(round string) {
				t.Helper()
				aliceAddr := alice.expectConn(t)
				bob.expectConn(t)
				alice.expectLine(t, "WELCOME ")
				bob.expectLine(t, "WELCOME ")
				if !strings.HasPrefix(aliceAddr, "127.0.0.2:") {
					t.Fatalf("alice's local address %s", aliceAddr)
				}
				msg := "hello from alice, " + round
				alice.send(r, msg)
				if got, want := bob.expectLine(t, aliceAddr+": "), aliceAddr+": "+msg; got != want {
					t.Fatalf("bob got %q, want %q", got, want)
				}
			}
			chat("first")

			// Stop the process serving them ("balance first": a).
			a.stop()
			if a.err != nil {
				t.Fatalf("whirl a exited with %v", a.err)
			}
			chat("after a stopped")
			if n := len(b.waitLine("listening", 1, time.Second)); n != 1 {
				t.Fatalf("b logged %d listening lines", n)
			}
		})
	}
}
