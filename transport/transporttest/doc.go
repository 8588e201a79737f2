// Package transporttest provides an in-memory [Transport], a fake [Clock] and
// a [Loop] that runs on it, for testing protocols with no socket and no real
// time, as [net/http/httptest] does for handlers. It is whirl's equivalent of
// Twisted's StringTransport and task.Clock.
//
// A test connects a protocol to a [Transport], feeds it bytes by calling its
// DataReceived, and reads back what it wrote with [Transport.Value]. Timers and
// callbacks that the protocol schedules on the transport's loop run only when
// the test moves the clock with [Clock.Advance]. With Echo a protocol that
// writes back what it receives and, with a protocol.Timeout set to 30 s in
// its ConnectionMade, hangs up after 30 s without input:
//
//	tr := transporttest.New()
//	p := &Echo{}
//	protocol.MakeConnection(p, tr)
//	p.DataReceived([]byte("hello"))
//	if got, want := string(tr.Value()), "hello"; got != want {
//		t.Errorf("wrote %q, want %q", got, want)
//	}
//	tr.Clock().Advance(30 * time.Second) // fires the protocol's own timer
//	if tr.Connected() {
//		t.Error("still connected 30 s after the last input")
//	}
//
// The reactor's own timeouts (reactor.WithReadIdleTimeout and the like) are
// not part of the in-memory transport: only the timers the protocol sets
// run here. The package example shows the same with a DelayedCall.
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
// The transport has no output buffer to drain, so it closes as soon as the
// reactor's rules let it: AbortConnection closes it at once, and so does
// LoseConnection, unless a registered producer holds the close up (every
// producer does, except a transport that is no longer connected: see
// [transport.HoldsClose]). Then the transport is disconnecting, not
// connected, still takes writes, and closes ([Transport.Disconnected]) when
// the producer unregisters. Once closed, writes fail with
// [transport.ErrClosed], as whirl's contract requires. LoseWriteConnection
// shuts the write side only ([Transport.WriteClosed]); the transport stays
// connected until LoseConnection or AbortConnection, since no peer's FIN
// ever arrives.
//
// It never calls the protocol back: a test that wants ConnectionLost,
// ReadConnectionLost or WriteConnectionLost calls it itself, with the reason
// it wants to exercise. Nor does it call the producer: a test pauses,
// resumes or stops it through [Transport.Producer].
//
// Nothing runs on a goroutine of its own. DelayedCall callbacks, CallSoon
// functions and DeferToGoroutine's then run on the goroutine that calls
// [Clock.Advance]; DeferToGoroutine's fn runs on the goroutine that calls it.
// Every method is nonetheless safe to call from any goroutine.
package transporttest
