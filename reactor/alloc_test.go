//go:build !race

package reactor_test

import (
	"testing"

	"github.com/whirl-go/whirl/reactor"
)

// TestEchoAllocs pins 0 allocations per echoed message in steady state, for
// the whole process: client write and read, the loop's read, DataReceived,
// Write, and the flush.
func TestEchoAllocs(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	p := listen(t, r, echoFactory())
	running(t, r)
	c := dial(t, p)
	msg, buf := make([]byte, 64), make([]byte, 64)
	for i := 0; i < 100; i++ {
		roundTripBytes(t, c, msg, buf)
	}
	allocs := testing.AllocsPerRun(1000, func() { roundTripBytes(t, c, msg, buf) })
	if allocs > 0 {
		t.Fatalf("%.2f allocations per echoed message, want 0", allocs)
	}
}
