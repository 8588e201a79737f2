package reactor_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

type echo struct{ protocol.Base }

func (e *echo) DataReceived(data []byte) { e.Transport().Write(data) }

func echoFactory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &echo{} })
}

// running runs r until the test ends.
func running(t testing.TB, r *reactor.Reactor) { reactortest.Run(t, r) }

func listen(t testing.TB, r *reactor.Reactor, f factory.Factory) *reactor.Port {
	t.Helper()
	p, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		t.Fatalf("ListenTCP: %v", err)
	}
	return p
}

func dial(t testing.TB, p *reactor.Port) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func roundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := readFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo: got %q, want %q", buf, msg)
	}
}

func readFull(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func backgroundContext() context.Context { return context.Background() }
