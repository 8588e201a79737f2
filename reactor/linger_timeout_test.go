package reactor_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// lingerCase serves one ignoringSender that writes size bytes and loses the
// connection at once; newClient dials it and returns the client, when the
// server called LoseConnection, and the server's ConnectionLost.
func lingerCase(t *testing.T, size int, opts ...reactor.Option) (newClient func() *lingerClient) {
	t.Helper()
	made := make(chan transport.Transport, 1)
	lost := make(chan error, 1)
	f := factory.ForProtocol(func() protocol.Protocol {
		return &ignoringSender{size: size, lose: true, made: made, lost: lost}
	})
	r := reactor.New(opts...)
	p := listen(t, r, f)
	running(t, r)
	return func() *lingerClient {
		c := dial(t, p)
		c.SetReadBuffer(16 << 10)
		lc := &lingerClient{lost: lost}
		select {
		case <-made:
			lc.closing = time.Now() // LoseConnection was called just before
		case <-time.After(5 * time.Second):
			t.Fatal("ConnectionMade not called")
		}
		lc.c = c
		return lc
	}
}

type lingerClient struct {
	c       *net.TCPConn
	closing time.Time
	lost    chan error
}

// A client that neither reads nor closes, after the server wrote more than
// the client's receive buffer holds (but what its own send buffer holds, so
// the drain is over at once and the FIN queued): the lingering close gives up
// at WithLingerTimeout, with a reason saying output may be lost; a large
// drain timeout does not hold it.
func TestLingerTimeoutWithUnacknowledgedOutput(t *testing.T) {
	const size = 512 << 10
	newClient := lingerCase(t, size, reactor.WithLoops(1), reactor.WithLingerTimeout(300*time.Millisecond),
		reactor.WithDrainTimeout(30*time.Second), reactor.WithWriteBufferSize(1<<20))
	lc := newClient() // never reads, never closes (until the test ends)
	reason := waitLost(t, lc.lost, 5*time.Second)
	elapsed := time.Since(lc.closing)
	if !errors.Is(reason, transport.ErrConnectionLost) || !errors.Is(reason, transport.ErrLingerTimeout) {
		t.Fatalf("reason %v, want ErrConnectionLost wrapping ErrLingerTimeout", reason)
	}
	if errors.Is(reason, transport.ErrWriteStalled) {
		t.Fatalf("reason %v: the drain timeout fired, not the linger timeout", reason)
	}
	if elapsed < 250*time.Millisecond || elapsed > 1200*time.Millisecond {
		t.Fatalf("ConnectionLost %v after LoseConnection, want about the 300ms linger timeout", elapsed)
	}
}

// A client that reads everything but never closes: the peer acknowledged
// every byte (and the FIN), so the lingering close ends at once and cleanly,
// long before the linger timeout.
func TestLingerEndsWhenPeerAcknowledgedEverything(t *testing.T) {
	// The linger timeout is far longer than anything a loaded machine
	// adds, so a close well before it can only be the acknowledgement's.
	const size, linger = 512 << 10, 30 * time.Second
	newClient := lingerCase(t, size, reactor.WithLoops(1), reactor.WithLingerTimeout(linger))
	lc := newClient()
	c := lc.c
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := 0
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		got += n
		if err != nil {
			if got != size {
				t.Fatalf("read %d of %d bytes, then %v", got, size, err)
			}
			break
		}
	}
	eof := time.Now()
	reason := waitLost(t, lc.lost, 20*time.Second)
	if !errors.Is(reason, transport.ErrConnectionDone) || errors.Is(reason, transport.ErrLingerTimeout) {
		t.Fatalf("reason %v, want ErrConnectionDone", reason)
	}
	if elapsed := time.Since(eof); elapsed > linger/2 {
		t.Fatalf("ConnectionLost %v after the client read everything, though it had acknowledged it all (linger timeout %v)", elapsed, linger)
	}
}
