// Package transporttest provides an in-memory [Transport], a fake [Clock] and
// a [Loop] that runs on it, for testing protocols with no socket and no real
// time, as [net/http/httptest] does for handlers. It is whirl's equivalent of
// Twisted's StringTransport and task.Clock.
//
// A test connects a protocol to a [Transport], feeds it bytes by calling its
// DataReceived, and reads back what it wrote with [Transport.Value]. Timers and
// callbacks that the protocol schedules on the transport's loop run only when
// the test moves the clock with [Clock.Advance]:
//
//	tr := transporttest.New()
//	p := &Echo{}
//	protocol.MakeConnection(p, tr)
//	p.DataReceived([]byte("hello"))
//	if got, want := string(tr.Value()), "hello"; got != want {
//		t.Errorf("wrote %q, want %q", got, want)
//	}
//	tr.Clock().Advance(30 * time.Second) // fire an idle timeout
//	if tr.Connected() {
//		t.Error("still connected after the idle timeout")
//	}
//
// Framing protocols should be fed their input in pieces of every size, to
// shake out buffering bugs; [Chunks] and [ChunkSizes] do that:
//
//	for _, size := range transporttest.ChunkSizes {
//		for _, piece := range transporttest.Chunks(input, size) {
//			p.DataReceived(piece)
//		}
//	}
//
// # Differences from a real connection
//
// The transport closes at once: after LoseConnection or AbortConnection it is
// no longer connected and further writes fail with [transport.ErrClosed], as
// whirl's contract requires. It never calls the protocol back: a test that
// wants ConnectionLost calls it itself, with the reason it wants to exercise.
//
// Nothing runs on a goroutine of its own. DelayedCall callbacks, CallSoon
// functions and DeferToGoroutine's then run on the goroutine that calls
// [Clock.Advance]; DeferToGoroutine's fn runs on the goroutine that calls it.
// Every method is nonetheless safe to call from any goroutine.
package transporttest
