package reactor_test

import (
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/reactor"
)

// TestBacklogHonoured listens before Run (the socket is bound and listening,
// nobody accepts yet) and counts the connections the kernel completes: about
// the backlog with WithBacklog(4) (Linux queues backlog+1), all 12 with
// the default (the system's maximum).
func TestBacklogHonoured(t *testing.T) {
	for _, tt := range []struct {
		backlog  int
		min, max int
	}{
		{4, 1, 8},
		{0, 12, 12},
	} {
		r := reactor.New(reactor.WithBacklog(tt.backlog))
		p, err := r.ListenTCP("127.0.0.1:0", echoFactory())
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for range 12 {
			c, err := net.DialTimeout("tcp", p.Addr().String(), 100*time.Millisecond)
			if err == nil {
				done++
				defer c.Close()
			}
		}
		if done < tt.min || done > tt.max {
			t.Errorf("WithBacklog(%d): %d of 12 connections completed before Run; want %d..%d", tt.backlog, done, tt.min, tt.max)
		}
		ctx, cancel := contextWithTimeout(5 * time.Second)
		r.Stop(ctx)
		cancel()
	}
}
