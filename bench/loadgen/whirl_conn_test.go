package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// loopback is the part of a Transport that a whirlConn uses while it runs:
// Write appends to buf, which the test empties as it echoes it (so it
// allocates nothing once grown), AbortConnection is recorded. Any other method
// panics (nil embedded interface).
type loopback struct {
	transport.Transport
	buf     []byte
	aborted bool
}

func (l *loopback) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *loopback) AbortConnection() { l.aborted = true }

// newTestConn returns a whirlConn of a run in its measurement window, wired
// to a loopback, with its first messages sent.
func newTestConn(t testing.TB, size, depth int) (*whirlConn, *loopback) {
	t.Helper()
	g := &run{cfg: Config{Addr: "test", Conns: 1, Size: size, Depth: depth, Duration: time.Second}, epoch: time.Now()}
	g.phase.Store(phaseMeasure)
	wr := &whirlRun{g: g, done: make(chan struct{})}
	wr.live.Store(1)
	w := newWhirlConn(7, wr)
	w.lt = new(tally)
	lb := &loopback{}
	if !protocol.Wire(w, lb) {
		t.Fatal("whirlConn does not embed protocol.Base")
	}
	w.send(w.depth)
	return w, lb
}

// TestWhirlConnChunks feeds the echoes back in chunks of every awkward size:
// a message split anywhere, several in one chunk, a chunk that ends inside
// the next message.
func TestWhirlConnChunks(t *testing.T) {
	for _, tc := range []struct{ size, depth int }{{64, 1}, {64, 4}, {MinSize, 3}, {1000, 8}} {
		for _, chunk := range []int{1, 3, tc.size - 1, tc.size, tc.size + 1, 2*tc.size + 5, 1 << 20} {
			w, lb := newTestConn(t, tc.size, tc.depth)
			var pending []byte // written, not yet echoed
			for round := 0; w.recv < uint64(3*tc.depth) && round < 100000; round++ {
				pending = append(pending, lb.buf...)
				lb.buf = lb.buf[:0]
				n := min(chunk, len(pending))
				in := append([]byte(nil), pending[:n]...)
				pending = pending[n:]
				w.DataReceived(in)
				if w.g.first != "" {
					t.Fatalf("size %d depth %d chunk %d: %s", tc.size, tc.depth, chunk, w.g.first)
				}
			}
			if in := w.next - w.recv; in > uint64(tc.depth) || w.recv == 0 {
				t.Errorf("size %d depth %d chunk %d: sent %d, echoed %d", tc.size, tc.depth, chunk, w.next, w.recv)
			}
			if int64(w.recv) != w.verified || w.lt.msgs != w.verified || w.lt.hist.Count() != uint64(w.verified) {
				t.Errorf("counts disagree: recv %d, verified %d, msgs %d, recorded %d", w.recv, w.verified, w.lt.msgs, w.lt.hist.Count())
			}
		}
	}
}

func TestWhirlConnMismatch(t *testing.T) {
	w, lb := newTestConn(t, 64, 2)
	echo := append([]byte(nil), lb.buf...)
	echo[64+20] ^= 1 // the second message
	w.DataReceived(echo)
	if !lb.aborted || !w.over || w.g.mismatch != 1 || w.verified != 1 {
		t.Fatalf("aborted %v, over %v, mismatches %d, verified %d; want true, true, 1, 1", lb.aborted, w.over, w.g.mismatch, w.verified)
	}
	if !strings.Contains(w.g.first, "connection 7, message 1, byte 20") {
		t.Errorf("first error %q does not point at the byte", w.g.first)
	}
	select {
	case <-w.wr.done:
	default:
		t.Error("the connection was not counted out of the run")
	}
	w.DataReceived(echo) // after the end: ignored
	if w.verified != 1 || w.g.mismatch != 1 {
		t.Errorf("data after the end was looked at")
	}
}

// TestWhirlConnDrains: once the window is over, a connection sends no more
// and finishes when the last echo is in.
func TestWhirlConnDrains(t *testing.T) {
	w, lb := newTestConn(t, 64, 3)
	echo := append([]byte(nil), lb.buf...)
	lb.buf = lb.buf[:0]
	w.g.phase.Store(phaseStop)
	w.DataReceived(echo[:100])
	if w.over || len(lb.buf) != 0 {
		t.Fatalf("over %v, wrote %d bytes during the drain; want false, 0", w.over, len(lb.buf))
	}
	w.DataReceived(echo[100:])
	if !w.over || w.recv != 3 || w.g.first != "" {
		t.Fatalf("over %v, recv %d, error %q; want true, 3, none", w.over, w.recv, w.g.first)
	}
}
