package push_test

import (
	"bufio"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/push/push"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// TestServerPushes runs the server on two loops on 127.0.0.1:0 and checks
// that each of 10 clients reads increasing timestamps, close to now.
func TestServerPushes(t *testing.T) {
	f := &push.Factory{Interval: 5 * time.Millisecond}
	addr := reactortest.Serve(t, f, reactor.WithLoops(2)).Addr().String()
	done := make(chan error, 10)
	for range 10 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			br := bufio.NewReader(c)
			var last int64
			for range 10 {
				line, err := br.ReadString('\n')
				if err != nil {
					done <- err
					return
				}
				ts, err := strconv.ParseInt(line[:len(line)-1], 10, 64)
				if err != nil {
					done <- err
					return
				}
				if ts <= last || time.Since(time.Unix(0, ts)) > 5*time.Second {
					done <- strconv.ErrRange
					return
				}
				last = ts
			}
			done <- nil
		}()
	}
	for range 10 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestSlowClientBounded connects a client that never reads, with small
// socket buffers on both sides and low watermarks, and checks that the
// server skips its pushes once its output is over the high watermark
// instead of buffering them.
func TestSlowClientBounded(t *testing.T) {
	f := &push.Factory{Interval: 200 * time.Microsecond}
	r := reactor.New(reactor.WithLoops(1), reactor.WithWriteBufferSize(4096), reactor.WithWriteWatermarks(2048, 512))
	p, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		t.Fatal(err)
	}
	reactortest.Run(t, r)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for f.Skipped() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no push skipped after %d pushes", f.Pushed())
		}
		if b := r.Stats().Buffered; b > 4096 {
			t.Fatalf("the reactor holds %d bytes for a client that does not read", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if b := r.Stats().Buffered; b > 4096 {
		t.Fatalf("the reactor holds %d bytes for a client that does not read", b)
	}
}
