package protocol_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// pauseProto is a receiver under a pause test: a protocol that is its own
// producer.
type pauseProto interface {
	protocol.Protocol
	transport.Producer
}

// pauseKind builds a receiver whose callback (LineReceived or
// StringReceived) runs onItem with each item, and frames items for it.
type pauseKind struct {
	name   string
	make   func(onItem func(p pauseProto, item string)) (pauseProto, func() []string)
	encode func(items ...string) []byte
}

func linePauseKind(name string, newP func(onItem func(p pauseProto, item string)) (pauseProto, func() []string)) pauseKind {
	return pauseKind{name, newP, func(items ...string) []byte {
		return []byte(strings.Join(items, "\r\n") + "\r\n")
	}}
}

func strPauseKind(k strKind) pauseKind {
	return pauseKind{k.name, func(onItem func(p pauseProto, item string)) (pauseProto, func() []string) {
		p := k.plain()
		pp := p.(pauseProto)
		p.ev().onString = func(s string) { onItem(pp, s) }
		return pp, func() []string { return p.ev().strings }
	}, func(items ...string) []byte { return strEncode(k, items) }}
}

var pauseKinds = []pauseKind{
	linePauseKind("LineReceiver", func(onItem func(p pauseProto, item string)) (pauseProto, func() []string) {
		p := &lineRec{}
		p.onLine = func(p *lineRec, line []byte) { onItem(p, string(line)) }
		return p, func() []string { return trimEvents(p.events) }
	}),
	linePauseKind("LineOnlyReceiver", func(onItem func(p pauseProto, item string)) (pauseProto, func() []string) {
		p := &onlyRec{}
		p.onLine = func(p *onlyRec, line []byte) { onItem(p, string(line)) }
		return p, func() []string { return trimEvents(p.events) }
	}),
	strPauseKind(strInt8), strPauseKind(strInt16), strPauseKind(strInt32), strPauseKind(strNetstring),
}

// trimEvents drops the "line " prefix of the line receivers' events.
func trimEvents(events []string) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = strings.TrimPrefix(e, "line ")
	}
	return out
}

// pauseFeed gives data to p in pieces of size bytes, as a transport that
// goes on delivering what it had read before the pause would.
func pauseFeed(p protocol.Protocol, data []byte, size int) {
	for _, piece := range transporttest.Chunks(data, size) {
		buf := append([]byte(nil), piece...)
		p.DataReceived(buf)
		for i := range buf { // a receiver that kept buf without copying fails
			buf[i] = '#'
		}
	}
}

func TestReceiversPause(t *testing.T) {
	tests := []struct {
		name string
		// onItem runs in the callback; run drives the test once the
		// input was fed, and returns what must have been delivered.
		onItem func(p pauseProto, item string)
		run    func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte)
	}{
		{"pause in the first callback", func(p pauseProto, item string) {
			if item == "a" {
				p.PauseProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "paused", got(), "a")
			if !tr.Paused() {
				t.Error("transport not paused, want PauseProducing to pause it")
			}
			p.ResumeProducing()
			want(t, "resumed, before the loop ran", got(), "a")
			tr.Clock().Advance(0)
			want(t, "resumed", got(), "a", "b", "c")
			if tr.Paused() {
				t.Error("transport still paused after ResumeProducing")
			}
		}},
		{"transport paused in the first callback", func(p pauseProto, item string) {
			if item == "a" {
				transportOf(p).PauseProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "paused", got(), "a")
			tr.ResumeProducing()
			want(t, "transport resumed, not told yet", got(), "a")
			p.(protocol.ReadResumer).ReadingResumed() // what the reactor calls
			want(t, "told", got(), "a", "b", "c")
		}},
		{"transport paused from another goroutine", func(p pauseProto, item string) {
			if item == "b" {
				var wg sync.WaitGroup
				wg.Go(transportOf(p).PauseProducing)
				wg.Wait()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "paused", got(), "a", "b")
			p.DataReceived(enc("d"))
			want(t, "fed while paused", got(), "a", "b")
			tr.ResumeProducing()
			p.(protocol.ReadResumer).ReadingResumed()
			want(t, "told", got(), "a", "b", "c", "d")
		}},
		{"pause in every callback", func(p pauseProto, item string) {
			p.PauseProducing()
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "paused", got(), "a")
			for i, w := range [][]string{{"a", "b"}, {"a", "b", "c"}} {
				p.ResumeProducing()
				tr.Clock().Advance(0)
				want(t, fmt.Sprintf("resume %d", i+1), got(), w...)
				if !tr.Paused() {
					t.Errorf("resume %d: transport resumed, want paused again by the callback", i+1)
				}
			}
		}},
		{"pause and resume in one callback", func(p pauseProto, item string) {
			if item == "a" {
				p.PauseProducing()
				p.ResumeProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "fed", got(), "a", "b", "c")
			tr.Clock().Advance(0)
			if tr.Paused() {
				t.Error("transport still paused")
			}
		}},
		{"pause from another goroutine, in the callback", func(p pauseProto, item string) {
			if item == "a" {
				var wg sync.WaitGroup
				wg.Go(p.PauseProducing)
				wg.Wait()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "paused", got(), "a")
			var wg sync.WaitGroup
			wg.Go(p.ResumeProducing)
			wg.Wait()
			tr.Clock().Advance(0)
			want(t, "resumed", got(), "a", "b", "c")
		}},
		{"StopProducing in the callback", func(p pauseProto, item string) {
			if item == "a" {
				p.StopProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			want(t, "stopped", got(), "a")
			if !tr.Disconnecting() {
				t.Error("transport open, want StopProducing to close it")
			}
			p.ResumeProducing()
			tr.Clock().Advance(0)
			want(t, "resumed after stop", got(), "a")
		}},
		{"LoseConnection while paused", func(p pauseProto, item string) {
			if item == "a" {
				p.PauseProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			tr.LoseConnection()
			p.ResumeProducing()
			tr.Clock().Advance(0)
			want(t, "resumed after LoseConnection", got(), "a")
		}},
		{"data received while paused", func(p pauseProto, item string) {
			if item == "a" {
				p.PauseProducing()
			}
		}, func(t *testing.T, p pauseProto, tr *transporttest.Transport, got func() []string, enc func(...string) []byte) {
			tr.ResumeProducing() // the transport alone: delivery stays paused
			pauseFeed(p, enc("d"), 0)
			want(t, "paused", got(), "a")
			if !tr.Paused() {
				t.Error("transport not paused again by data that arrived while the receiver was paused")
			}
			p.ResumeProducing()
			tr.Clock().Advance(0)
			want(t, "resumed", got(), "a", "b", "c", "d")
		}},
	}
	for _, k := range pauseKinds {
		for _, tt := range tests {
			for _, size := range transporttest.ChunkSizes {
				t.Run(fmt.Sprintf("%s/%s/chunks of %d", k.name, tt.name, size), func(t *testing.T) {
					p, got := k.make(tt.onItem)
					tr := transporttest.New()
					protocol.MakeConnection(p, tr)
					pauseFeed(p, k.encode("a", "b", "c"), size)
					tt.run(t, p, tr, got, k.encode)
				})
			}
		}
	}
}

func want(t *testing.T, when string, got []string, w ...string) {
	t.Helper()
	if !slices.Equal(got, w) {
		t.Errorf("%s: delivered %q, want %q", when, got, w)
	}
}

// TestReceiversPauseHoldsBoundedData checks what a receiver paused in its
// first callback holds: the rest of the chunk, no more.
func TestReceiversPauseHoldsBoundedData(t *testing.T) {
	for _, kind := range lineKinds {
		t.Run(kind.name, func(t *testing.T) {
			p, events := kind.make("", 0, "")
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			p.(transport.Producer).PauseProducing()
			feed(p, "a\r\nb\r\nc", 0)
			if got := events(); len(got) != 0 {
				t.Errorf("delivered %q while paused", got)
			}
			if got, want := p.Buffered(), len("a\r\nb\r\nc"); got != want {
				t.Errorf("Buffered() = %d, want %d", got, want)
			}
			p.(transport.Producer).ResumeProducing()
			tr.Clock().Advance(0)
			if got, want := events(), lines("a", "b"); !slices.Equal(got, want) {
				t.Errorf("delivered %q, want %q", got, want)
			}
			if got := p.Buffered(); got != 1 {
				t.Errorf("Buffered() = %d after resume, want 1 (the unfinished line)", got)
			}
		})
	}
}

// TestLineReceiverPauseRawMode checks that a pause holds raw data too, and
// that a line too long found after a resume closes as usual.
func TestLineReceiverPauseRawMode(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunks of %d", size), func(t *testing.T) {
			p := &lineRec{}
			p.onLine = func(p *lineRec, line []byte) {
				if string(line) == "RAW" {
					p.SetRawMode()
					p.PauseProducing()
				}
			}
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			feed(p, "x\r\nRAW\r\nraw bytes", size)
			if got, want := p.events, lines("x", "RAW"); !slices.Equal(got, want) {
				t.Fatalf("paused: events %q, want %q", got, want)
			}
			p.ResumeProducing()
			tr.Clock().Advance(0)
			if got, want := p.events, append(lines("x", "RAW"), "raw raw bytes"); !slices.Equal(got, want) {
				t.Errorf("resumed: events %q, want %q", got, want)
			}
		})
	}
	t.Run("line too long after resume", func(t *testing.T) {
		p := &lineRec{}
		p.MaxLength = 4
		p.onLine = func(p *lineRec, line []byte) { p.PauseProducing() }
		tr := transporttest.New()
		protocol.MakeConnection(p, tr)
		feed(p, "ok\r\ntoo long\r\n", 0)
		p.ResumeProducing()
		tr.Clock().Advance(0)
		if got, want := p.events, lines("ok"); !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		checkLineCloseError(t, tr, p.Err(), true, 4)
	})
}

// TestReceiverAsOwnProducer registers a receiver as its own transport's
// producer, as a protocol that wants its delivery paused with its output
// does: the watermark's pause stops the delivery at once, and the producer
// does not hold a LoseConnection up.
func TestReceiverAsOwnProducer(t *testing.T) {
	for _, k := range pauseKinds {
		t.Run(k.name, func(t *testing.T) {
			p, got := k.make(func(p pauseProto, item string) {})
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			if err := tr.RegisterProducer(p, true); err != nil {
				t.Fatal(err)
			}
			producer, _ := tr.Producer()
			producer.PauseProducing() // what the transport does above its high watermark
			pauseFeed(p, k.encode("a", "b"), 0)
			want(t, "paused", got())
			producer.ResumeProducing()
			tr.Clock().Advance(0)
			want(t, "resumed", got(), "a", "b")
			tr.LoseConnection()
			if !tr.Disconnected() {
				t.Error("LoseConnection held up by the receiver registered as producer")
			}
		})
	}
}

// transportOf returns p's transport.
func transportOf(p pauseProto) transport.Transport {
	return p.(interface{ Transport() transport.Transport }).Transport()
}
