package reactortest_test

import (
	"io"
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

func TestServe(t *testing.T) {
	p := reactortest.Serve(t, factory.ForProtocol(func() protocol.Protocol { return &echo{} }), reactor.WithLoops(2))
	c, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}
