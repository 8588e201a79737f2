package reactor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// ignoringSender writes size pattern bytes when the connection is made,
// never looks at what it receives (Base's DataReceived discards it), and
// loses the connection at once if lose is set.
type ignoringSender struct {
	protocol.Base
	size int
	lose bool
	made chan transport.Transport
	lost chan error
}

func (s *ignoringSender) ConnectionMade() {
	tr := s.Transport()
	tr.Write(pattern(0, s.size))
	if s.lose {
		tr.LoseConnection()
	}
	if s.made != nil {
		s.made <- tr
	}
}

func (s *ignoringSender) ConnectionLost(reason error) {
	if s.lost != nil {
		s.lost <- reason
	}
}

// chatter keeps sending to c, 4 KiB a millisecond, until stop is called. A
// write error ends it quietly: the server may close once the client has
// acknowledged everything it sent.
func chatter(c net.Conn) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		chunk := bytes.Repeat([]byte("chatter "), 512)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			if _, err := c.Write(chunk); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// slowRead reads from c, slowly (16 KiB a millisecond at most), until EOF,
// and checks it got exactly size pattern bytes and then a clean EOF.
func slowRead(c net.Conn, size int) error {
	buf := make([]byte, 16<<10)
	off := 0
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		time.Sleep(time.Millisecond)
		n, err := c.Read(buf)
		if n > 0 {
			if off+n > size || !bytes.Equal(buf[:n], pattern(off, n)) {
				return fmt.Errorf("bytes %d..%d differ from what was written", off, off+n)
			}
			off += n
		}
		switch {
		case err == io.EOF && off == size:
			return nil
		case err == io.EOF:
			return fmt.Errorf("EOF after %d of %d bytes", off, size)
		case err != nil:
			return fmt.Errorf("after %d of %d bytes: %w", off, size, err)
		}
	}
}

// The server writes 4 MiB and loses the connection at once, never reading;
// the client keeps sending all along and reads slowly. Closing a socket with
// unread input makes the kernel reset the connection and drop what it has
// not sent yet: the lingering close must keep that from happening, so the
// client gets every byte and a clean EOF.
func TestLingeringCloseDeliversEverything(t *testing.T) {
	const size = 4 << 20
	lost := make(chan error, 1)
	f := factory.ForProtocol(func() protocol.Protocol {
		return &ignoringSender{size: size, lose: true, lost: lost}
	})
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, f)
	running(t, r)
	c := dial(t, p)
	stop := chatter(c)
	err := slowRead(c, size)
	stop()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if reason := waitLost(t, lost, 5*time.Second); !errors.Is(reason, transport.ErrConnectionDone) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
}

// A graceful Stop with 10 clients in the middle of a transfer, each still
// sending to a server that does not read: every client gets everything
// written before the stop, then a clean EOF.
func TestStopLingersForEveryClient(t *testing.T) {
	const clients, size = 10, 2 << 20
	made := make(chan transport.Transport, clients)
	lost := make(chan error, clients)
	f := factory.ForProtocol(func() protocol.Protocol {
		return &ignoringSender{size: size, made: made, lost: lost}
	})
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, f)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()

	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := dial(t, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := chatter(c)
			err := slowRead(c, size)
			stop()
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	for i := 0; i < clients; i++ {
		select {
		case <-made:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d connections made", i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(ctx) }()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return once the clients had everything")
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i := 0; i < clients; i++ {
		if reason := waitLost(t, lost, time.Second); !errors.Is(reason, transport.ErrConnectionDone) {
			t.Errorf("reason %v, want ErrConnectionDone", reason)
		}
	}
}
