package protocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// relayPair is two relays connected to in-memory transports.
type relayPair struct {
	a, b   *protocol.Relay
	ta, tb *transporttest.Transport
}

// newRelayPair connects two relays, on one loop or on a loop each.
func newRelayPair(sameLoop bool) relayPair {
	ta := transporttest.New()
	tb := transporttest.New()
	if sameLoop {
		tb = transporttest.NewWithLoop(ta.Loop().(*transporttest.Loop))
	}
	p := relayPair{a: &protocol.Relay{}, b: &protocol.Relay{}, ta: ta, tb: tb}
	protocol.MakeConnection(p.a, ta)
	protocol.MakeConnection(p.b, tb)
	return p
}

// run runs what is scheduled on both loops.
func (p relayPair) run() {
	p.ta.Clock().Advance(0)
	p.tb.Clock().Advance(0)
}

var loopCases = []struct {
	name     string
	sameLoop bool
}{{"one loop", true}, {"two loops", false}}

func TestRelayConnectionMadePauses(t *testing.T) {
	tr := transporttest.New()
	protocol.MakeConnection(&protocol.Relay{}, tr)
	if !tr.Paused() {
		t.Error("a relay reads before it is spliced, want it paused")
	}
	if !tr.Connected() {
		t.Error("ConnectionMade closed the connection")
	}
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("ConnectionMade wrote %q, want nothing", got)
	}
}

func TestSplice(t *testing.T) {
	for _, lc := range loopCases {
		t.Run(lc.name, func(t *testing.T) {
			p := newRelayPair(lc.sameLoop)
			protocol.Splice(p.a, p.b)
			for _, c := range []struct {
				name       string
				tr, wantBy *transporttest.Transport
			}{{"a", p.ta, p.tb}, {"b", p.tb, p.ta}} {
				prod, streaming := c.tr.Producer()
				if prod != transport.Producer(c.wantBy) || !streaming {
					t.Errorf("%s's producer is %v (streaming %v), want the other transport, streaming", c.name, prod, streaming)
				}
				if !c.tr.Paused() {
					t.Errorf("%s reads before its loop ran its part of the splice", c.name)
				}
			}
			p.run()
			if p.ta.Paused() || p.tb.Paused() {
				t.Errorf("after the loops ran: paused %v and %v, want both reading", p.ta.Paused(), p.tb.Paused())
			}
			if !p.ta.Connected() || !p.tb.Connected() {
				t.Error("splicing closed a connection")
			}
		})
	}
}

func TestSpliceRelays(t *testing.T) {
	data := []byte("relayed\r\n\x00\xffbytes")
	for _, lc := range loopCases {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", lc.name, size), func(t *testing.T) {
				p := newRelayPair(lc.sameLoop)
				protocol.Splice(p.a, p.b)
				p.run()
				for _, piece := range transporttest.Chunks(data, size) {
					p.a.DataReceived(piece)
				}
				if got := p.tb.Value(); !bytes.Equal(got, data) {
					t.Errorf("a to b: wrote %q, want %q", got, data)
				}
				for _, piece := range transporttest.Chunks(data, size) {
					p.b.DataReceived(piece)
				}
				if got := p.ta.Value(); !bytes.Equal(got, data) {
					t.Errorf("b to a: wrote %q, want %q (nothing echoed)", got, data)
				}
			})
		}
	}
}

// TestRelayDoesNotKeepData checks that a relay copies what it forwards: the
// loop reuses the buffer once DataReceived returns.
func TestRelayDoesNotKeepData(t *testing.T) {
	p := newRelayPair(false)
	protocol.Splice(p.a, p.b)
	p.run()
	buf := []byte("first")
	p.a.DataReceived(buf)
	copy(buf, "#####")
	p.a.DataReceived([]byte("second"))
	if got, want := string(p.tb.Value()), "firstsecond"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func TestRelayConnectionLostClosesPeer(t *testing.T) {
	reasons := []error{
		transport.ErrConnectionDone,
		transport.Lost(errors.New("reset")),
		transport.ErrConnectionAborted,
	}
	for _, lc := range loopCases {
		for _, side := range []string{"a", "b"} {
			for _, reason := range reasons {
				t.Run(fmt.Sprintf("%s/%s lost/%v", lc.name, side, reason), func(t *testing.T) {
					p := newRelayPair(lc.sameLoop)
					protocol.Splice(p.a, p.b)
					p.run()
					gone, goneTr, peer := p.a, p.ta, p.tb
					if side == "b" {
						gone, goneTr, peer = p.b, p.tb, p.ta
					}
					goneTr.LoseConnection()
					gone.ConnectionLost(reason)
					if peer.Connected() {
						t.Error("peer still connected, want it closed")
					}
					if peer.Aborted() {
						t.Error("peer aborted, want it closed cleanly after its output")
					}
					gone.ConnectionLost(reason) // a second call must not panic
				})
			}
		}
	}
}

// TestRelayConnectionLostUnspliced checks that a relay lost before any
// splice has nothing to close.
func TestRelayConnectionLostUnspliced(t *testing.T) {
	tr := transporttest.New()
	r := &protocol.Relay{}
	protocol.MakeConnection(r, tr)
	tr.LoseConnection()
	r.ConnectionLost(transport.ErrConnectionDone)
	r.DataReceived([]byte("late")) // must not panic
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("wrote %q, want nothing", got)
	}
}

// TestSplicePeerGoneBeforeLoop closes one side before the other's loop ran
// its part of the splice: that side is closed as well.
func TestSplicePeerGoneBeforeLoop(t *testing.T) {
	for _, lc := range loopCases {
		t.Run(lc.name, func(t *testing.T) {
			p := newRelayPair(lc.sameLoop)
			protocol.Splice(p.a, p.b)
			p.tb.LoseConnection()
			p.ta.Clock().Advance(0)
			if p.ta.Connected() {
				t.Error("a still connected though b was gone when a's loop joined them")
			}
		})
	}
}

// TestSpliceLoopStopped splices a relay whose loop has stopped: its peer is
// closed, as nothing can relay for it.
func TestSpliceLoopStopped(t *testing.T) {
	p := newRelayPair(false)
	p.ta.Loop().(*transporttest.Loop).Stop()
	protocol.Splice(p.a, p.b)
	if p.tb.Connected() {
		t.Error("b still connected though a's loop had stopped")
	}
}

// TestSpliceSelfLostBeforeLoop loses a after b's loop ran its part of the
// splice (b found a connected and reads) but before a's loop ran its own: b
// must still be closed. With the reactor, a's transport also stops its
// producer b when it closes, but only once its loop has taken in the
// registration Splice made, which it may not have done yet.
func TestSpliceSelfLostBeforeLoop(t *testing.T) {
	p := newRelayPair(false)
	protocol.Splice(p.a, p.b)
	p.tb.Clock().Advance(0)
	p.ta.LoseConnection()
	p.a.ConnectionLost(transport.ErrConnectionDone)
	p.ta.Clock().Advance(0)
	if p.tb.Connected() {
		t.Error("b still connected after a was lost before its part of the splice ran")
	}
}
