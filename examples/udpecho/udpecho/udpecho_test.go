package udpecho_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/examples/udpecho/udpecho"
)

// TestEcho runs the server with two sockets on one address and echoes
// datagrams from several peers, one of them the largest IPv4 datagram.
func TestEcho(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- udpecho.Serve(ctx, zerolog.Nop(), "127.0.0.1:0", 2, func(a net.Addr) { addrc <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	buf := make([]byte, 70000)
	for i := 0; i < 8; i++ {
		c, err := net.Dial("udp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range [][]byte{[]byte("hello"), bytes.Repeat([]byte{byte(i)}, 65507)} {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			n, err := c.Read(buf)
			if err != nil || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("peer %d: echo of %d bytes: got %d, %v", i, len(msg), n, err)
			}
		}
		c.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
