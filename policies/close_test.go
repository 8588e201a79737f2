package policies_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// quitter is the bounded echo (its transport registered as its own
// producer, as examples/echo does) that closes the connection once it has
// received "quit", as a protocol closes on a protocol error.
type quitter struct {
	selfProducer
	got []byte
}

func (q *quitter) DataReceived(data []byte) {
	_, _ = q.Transport().Write(data)
	q.got = append(q.got, data...)
	if bytes.Contains(q.got, []byte("quit")) {
		q.Transport().LoseConnection()
	}
}

func selfProducing() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &quitter{} })
}

// wrappers are the policies with which a wrapped protocol's own
// LoseConnection must close the connection.
var wrappers = []struct {
	name string
	wrap func(factory.Factory) *policies.WrappingFactory
}{
	{"NewWrappingFactory", func(f factory.Factory) *policies.WrappingFactory { return policies.NewWrappingFactory(f, nil) }},
	{"LimitTotalConnections", func(f factory.Factory) *policies.WrappingFactory {
		return policies.LimitTotalConnections(f, 1, nil)
	}},
	{"LimitConnectionsByPeer", func(f factory.Factory) *policies.WrappingFactory { return policies.LimitConnectionsByPeer(f, 1) }},
	{"TimeoutFactory", func(f factory.Factory) *policies.WrappingFactory { return policies.TimeoutFactory(f, time.Minute) }},
	{"ThrottlingFactory", func(f factory.Factory) *policies.WrappingFactory {
		return policies.ThrottlingFactory(f, policies.ThrottlingOptions{MaxConnections: 1, ReadLimit: 1 << 20, WriteLimit: 1 << 20})
	}},
	{"TrafficLogging", func(f factory.Factory) *policies.WrappingFactory { return policies.TrafficLogging(f, discard, 0) }},
	{"nested", func(f factory.Factory) *policies.WrappingFactory {
		return policies.TimeoutFactory(policies.LimitTotalConnections(f, 1, nil), time.Minute)
	}},
}

// TestTimeoutClosesSelfProducer is the regression test for idle timeouts
// that did nothing: the wrapper's producer proxy, registered with the real
// transport for the wrapped protocol's own transport, held LoseConnection up
// for ever.
func TestTimeoutClosesSelfProducer(t *testing.T) {
	input := []byte("hello, whirl\r\n")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			tr := transporttest.New()
			p := policies.TimeoutFactory(selfProducing(), 500*time.Millisecond).BuildProtocol(tr.RemoteAddr())
			protocol.MakeConnection(p, tr)
			if px, _ := tr.Producer(); px == nil {
				t.Fatal("the echo registered no producer with the real transport")
			}
			for _, piece := range transporttest.Chunks(input, size) {
				tr.Clock().Advance(400 * time.Millisecond)
				p.DataReceived(piece)
			}
			if got := string(tr.Value()); got != string(input) {
				t.Errorf("echoed %q, want %q", got, input)
			}
			tr.Clock().Advance(499 * time.Millisecond)
			if !tr.Connected() {
				t.Fatal("closed before 500 ms of silence")
			}
			tr.Clock().Advance(time.Millisecond)
			if !tr.Disconnecting() {
				t.Fatal("no LoseConnection after 500 ms of silence")
			}
			if !tr.Disconnected() {
				t.Fatal("the idle timeout's LoseConnection is held up by the wrapper's producer proxy")
			}
			if tr.Aborted() {
				t.Error("the idle timeout aborted; want a clean close")
			}
		})
	}
}

// TestWrappedLoseConnectionSelfProducer checks that a wrapped bounded echo
// closing its connection (on a protocol error, say) closes the real
// transport under every policy.
func TestWrappedLoseConnectionSelfProducer(t *testing.T) {
	input := []byte("echo this, then quit")
	for _, wt := range wrappers {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", wt.name, size), func(t *testing.T) {
				tr := transporttest.New()
				p := wt.wrap(selfProducing()).BuildProtocol(tr.RemoteAddr())
				protocol.MakeConnection(p, tr)
				for _, piece := range transporttest.Chunks(input, size) {
					if !tr.Connected() {
						t.Fatal("closed before \"quit\" was complete")
					}
					p.DataReceived(piece)
				}
				tr.Clock().Advance(0)
				if !tr.Disconnected() {
					t.Fatal("the echo's LoseConnection is held up by the wrapper's producer proxy")
				}
				if got := string(tr.Value()); got != string(input) {
					t.Errorf("echoed %q, want %q", got, input)
				}
			})
		}
	}
}

// TestWrappedProducerHoldsClose checks that the proxy of a producer that is
// not a transport still holds LoseConnection up until it unregisters.
func TestWrappedProducerHoldsClose(t *testing.T) {
	for _, wt := range wrappers {
		t.Run(wt.name, func(t *testing.T) {
			tr := transporttest.New()
			_, r := connect(t, wt.wrap(&testFactory{}), tr)
			if err := r.Transport().RegisterProducer(&producer{}, false); err != nil {
				t.Fatal(err)
			}
			r.Transport().LoseConnection()
			if tr.Disconnected() || !tr.Disconnecting() {
				t.Fatalf("Disconnecting, Disconnected = %v, %v with a producer registered; want true, false",
					tr.Disconnecting(), tr.Disconnected())
			}
			if _, err := r.Transport().Write([]byte("last")); err != nil {
				t.Errorf("Write while the producer holds the close = %v", err)
			}
			r.Transport().UnregisterProducer()
			if !tr.Disconnected() {
				t.Error("still open after the producer unregistered")
			}
			if got := string(tr.Value()); got != "last" {
				t.Errorf("wrote %q, want %q", got, "last")
			}
		})
	}
}

// halfCloser records half-close events and keeps writing after the peer's
// FIN.
type halfCloser struct {
	recorder
	events []string
}

func (h *halfCloser) ReadConnectionLost() {
	h.events = append(h.events, "read lost")
	_, _ = h.Transport().Write([]byte("bye"))
}

func (h *halfCloser) WriteConnectionLost() { h.events = append(h.events, "write lost") }

var _ protocol.HalfCloseable = (*policies.ProtocolWrapper)(nil)

func TestWrapperHalfCloseable(t *testing.T) {
	for _, nested := range []bool{false, true} {
		t.Run(fmt.Sprint("nested=", nested), func(t *testing.T) {
			h := &halfCloser{}
			var wf factory.Factory = factory.ForProtocol(func() protocol.Protocol { return h })
			if nested {
				wf = policies.LimitTotalConnections(wf, 1, nil)
			}
			tr := transporttest.New()
			p := policies.TimeoutFactory(wf, time.Minute).BuildProtocol(tr.RemoteAddr())
			protocol.MakeConnection(p, tr)
			hc := p.(protocol.HalfCloseable)
			input := []byte("request")
			for _, size := range transporttest.ChunkSizes {
				for _, piece := range transporttest.Chunks(input, size) {
					p.DataReceived(piece)
				}
			}
			hc.ReadConnectionLost()
			if tr.Disconnecting() {
				t.Fatal("the peer's FIN closed a half-closeable protocol's connection")
			}
			if got := string(tr.Value()); got != "bye" {
				t.Errorf("wrote %q after the peer's FIN, want %q", got, "bye")
			}
			h.Transport().LoseWriteConnection()
			if !tr.WriteClosed() {
				t.Error("LoseWriteConnection did not reach the real transport")
			}
			if _, err := h.Transport().Write([]byte("x")); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after LoseWriteConnection = %v, want ErrClosed", err)
			}
			hc.WriteConnectionLost()
			if want := []string{"read lost", "write lost"}; !slices.Equal(h.events, want) {
				t.Errorf("events %q, want %q", h.events, want)
			}
			if got, want := string(h.data), string(bytes.Repeat(input, len(transporttest.ChunkSizes))); got != want {
				t.Errorf("received %q, want %q", got, want)
			}
			p.ConnectionLost(transport.ErrConnectionDone)
			hc.ReadConnectionLost() // after ConnectionLost: nothing
			hc.WriteConnectionLost()
			if len(h.events) != 2 {
				t.Errorf("events after ConnectionLost: %q", h.events[2:])
			}
		})
	}
}

// TestWrapperNotHalfCloseable checks that for a wrapped protocol that is
// not half-closeable, the peer's FIN ends the connection as the reactor
// ends it, with the bounded echo's producer proxy not holding it up, and
// that WriteConnectionLost does nothing.
func TestWrapperNotHalfCloseable(t *testing.T) {
	for _, wt := range wrappers {
		t.Run(wt.name, func(t *testing.T) {
			tr := transporttest.New()
			p := wt.wrap(selfProducing()).BuildProtocol(tr.RemoteAddr())
			hc := p.(protocol.HalfCloseable)
			hc.ReadConnectionLost() // before ConnectionMade: nothing
			protocol.MakeConnection(p, tr)
			p.DataReceived([]byte("last words"))
			hc.WriteConnectionLost()
			if !tr.Connected() {
				t.Fatal("WriteConnectionLost closed the connection")
			}
			hc.ReadConnectionLost()
			if !tr.Disconnected() || tr.Aborted() {
				t.Errorf("Disconnected, Aborted = %v, %v after the peer's FIN; want true, false", tr.Disconnected(), tr.Aborted())
			}
			if got := string(tr.Value()); got != "last words" {
				t.Errorf("wrote %q, want %q", got, "last words")
			}
		})
	}
}

func TestWrapperLoseWriteConnection(t *testing.T) {
	tr := transporttest.New()
	w, r := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), tr)
	_, _ = r.Transport().Write([]byte("last"))
	w.LoseWriteConnection()
	if !tr.WriteClosed() || !tr.Connected() {
		t.Errorf("WriteClosed, Connected = %v, %v; want true, true", tr.WriteClosed(), tr.Connected())
	}
	if _, err := r.Transport().Write([]byte("more")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Write after LoseWriteConnection = %v, want ErrClosed", err)
	}
	if got := string(tr.Value()); got != "last" {
		t.Errorf("wrote %q, want %q", got, "last")
	}
}
