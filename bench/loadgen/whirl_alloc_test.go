//go:build !race

package loadgen

import "testing"

// TestWhirlConnAllocs pins 0 heap allocations per message on the whirl
// client's side in steady state: verifying an echo, recording its round
// trip, and writing the next message (here into a loopback transport that
// reuses its buffer; the reactor's Write on the loop is pinned at 0 by the
// reactor's own allocation tests).
func TestWhirlConnAllocs(t *testing.T) {
	for _, tc := range []struct{ size, depth int }{{64, 1}, {4096, 8}} {
		w, lb := newTestConn(t, tc.size, tc.depth)
		echo := make([]byte, 0, tc.size*tc.depth)
		roundTrip := func() {
			echo = append(echo[:0], lb.buf...)
			lb.buf = lb.buf[:0]
			// In two pieces, the first ending inside a message.
			cut := len(echo) - tc.size/2
			w.DataReceived(echo[:cut])
			w.DataReceived(echo[cut:])
		}
		for range 100 {
			roundTrip()
		}
		if allocs := testing.AllocsPerRun(1000, roundTrip); allocs > 0 {
			t.Errorf("size %d depth %d: %.2f allocations per round trip, want 0", tc.size, tc.depth, allocs)
		}
		if w.g.first != "" || w.verified == 0 {
			t.Fatalf("size %d depth %d: verified %d, error %q", tc.size, tc.depth, w.verified, w.g.first)
		}
	}
}
