package reactortest

import (
	"context"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
)

// StopTimeout is how long the cleanup that Run registers waits for the
// reactor to stop before failing the test.
const StopTimeout = 20 * time.Second

// Run starts r.Run in the background and, when the test ends, stops it
// gracefully and fails the test if Run returned an error or did not return
// within StopTimeout. The test's goroutine.
func Run(tb testing.TB, r *reactor.Reactor) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("reactortest: Run: %v", err)
			}
		case <-time.After(StopTimeout):
			tb.Errorf("reactortest: the reactor did not stop within %v", StopTimeout)
		}
	})
}

// Serve makes a reactor with opts, listens with f on 127.0.0.1 on a port the
// system picks, runs it until the test ends (see Run), and returns the port;
// Port.Addr().String() is the address to dial. The test's goroutine.
func Serve(tb testing.TB, f factory.Factory, opts ...reactor.Option) *reactor.Port {
	tb.Helper()
	r := reactor.New(opts...)
	p, err := r.ListenTCP("127.0.0.1:0", f)
	if err != nil {
		tb.Fatalf("reactortest: ListenTCP: %v", err)
	}
	Run(tb, r)
	return p
}
