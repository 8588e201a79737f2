//go:build !race

package chat_test

import (
	"testing"

	"github.com/whirl-go/whirl/examples/chat/chat"
)

// TestBroadcastAllocs checks that a message costs no allocation once the
// sender's buffers have grown: the line is split without copying, the
// message and the snapshot of the room reuse the sender's scratch space.
func TestBroadcastAllocs(t *testing.T) {
	var f chat.Factory
	a, b, c := connect(t, &f, 1001), connect(t, &f, 1002), connect(t, &f, 1003)
	a.send("NICK alice\r\n", 0)
	msg := []byte("hello, everyone\r\n")
	a.p.DataReceived(msg) // warm up
	allocs := testing.AllocsPerRun(100, func() {
		b.tr.Clear()
		c.tr.Clear()
		a.p.DataReceived(msg)
	})
	if allocs != 0 {
		t.Errorf("a broadcast allocates %v times, want 0", allocs)
	}
	if got, want := b.take(), "alice: hello, everyone\r\n"; got != want {
		t.Errorf("other client got %q, want %q", got, want)
	}
}
