package simpleproto_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// TestClientAgainstServer runs the server on a reactor with two loops on
// 127.0.0.1:0 and gnet's client load against it with RunClients (on whirl's
// ConnectTCP): 8 clients, 20 batches of 50 random packets each.
func TestClientAgainstServer(t *testing.T) {
	addr := reactortest.Serve(t, &simpleproto.Factory{}, reactor.WithLoops(2)).Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := simpleproto.RunClients(ctx, simpleproto.ClientConfig{Addr: addr, Conns: 8, Size: 700, Batch: 50, Count: 20}, reactor.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	if res.Clients != 8 || res.Packets != 8*50*20 || len(res.Errors) > 0 {
		t.Fatalf("%d clients done, %d packets checked, errors %v", res.Clients, res.Packets, res.Errors)
	}
}

// TestClientDetectsBadServer points the client at a server that greets and
// then sends a packet of another version.
func TestClientDetectsBadServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, simpleproto.Greeting)
		_, _ = c.Write(header(1314, 7, 0))
		_, _ = io.Copy(io.Discard, c)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := simpleproto.RunClients(ctx, simpleproto.ClientConfig{Addr: ln.Addr().String(), Batch: 1, Count: 1}, reactor.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	if res.Clients != 0 || len(res.Errors) != 1 || !errors.Is(res.Errors[0], simpleproto.ErrVersion) {
		t.Fatalf("%d clients done, errors %v; want ErrVersion", res.Clients, res.Errors)
	}
}

// TestServerClosesOnBadMagic checks the server answers the packets before
// a bad one, then closes.
func TestServerClosesOnBadMagic(t *testing.T) {
	addr := reactortest.Serve(t, &simpleproto.Factory{}, reactor.WithLoops(2)).Addr().String()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write(append(packets("one"), header(4242, 1, 0)...))
	got, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	if want := simpleproto.Greeting + string(packets("one")); string(got) != want {
		t.Fatalf("read %q, want %q then the end of the stream", got, want)
	}
}
