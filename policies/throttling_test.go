package policies_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// runSteps drives connections: "aN"/"bN" connection a or b receives N bytes,
// "+D" advances the shared clock by duration D, "a?p"/"a?r" checks that a's
// reading is paused or running.
func runSteps(t *testing.T, tr map[string]*transporttest.Transport, w map[string]*policies.ProtocolWrapper, steps []string) {
	t.Helper()
	for i, s := range steps {
		switch {
		case s[0] == '+':
			d, err := time.ParseDuration(s[1:])
			if err != nil {
				t.Fatal(err)
			}
			tr["a"].Clock().Advance(d)
		case len(s) == 3 && s[1] == '?':
			if got, want := tr[s[:1]].Paused(), s[2] == 'p'; got != want {
				t.Fatalf("step %d (%s): paused %v, want %v", i, s, got, want)
			}
		default:
			n, err := strconv.Atoi(s[1:])
			if err != nil {
				t.Fatal(err)
			}
			w[s[:1]].DataReceived(bytes.Repeat([]byte("x"), n))
		}
	}
}

func TestThrottleReads(t *testing.T) {
	tests := []struct {
		name  string
		steps []string
	}{
		{"at the limit", []string{"a10", "a?r", "a1", "a?p", "+999ms", "a?p", "+1ms", "a?r"}},
		{"excess carried", []string{"a25", "a?p", "+1s", "a?p", "+1s", "a?r", "a5", "a?r", "a1", "a?p"}},
		{"exact multiple", []string{"a30", "a?p", "+1s", "a?p", "+1s", "a?r"}},
		{"windows roll", []string{"a10", "+1s", "a10", "a?r", "a1", "a?p", "+1s", "a?r"}},
		{"idle forgets", []string{"a9", "+10s", "a10", "a?r"}},
		{"budget shared", []string{"a8", "b5", "b?p", "a?r", "a1", "a?p", "+1s", "a?r", "b?r"}},
		{"paused again", []string{"a11", "a?p", "+1s", "a?r", "a20", "a?p", "+1s", "a?p", "+1s", "a?r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := policies.ThrottlingFactory(&testFactory{}, policies.ThrottlingOptions{ReadLimit: 10})
			loop := transporttest.NewLoop(transporttest.NewClock())
			trs := map[string]*transporttest.Transport{}
			ws := map[string]*policies.ProtocolWrapper{}
			rs := map[string]*recorder{}
			for _, name := range []string{"a", "b"} {
				trs[name] = transporttest.NewWithLoop(loop)
				ws[name], rs[name] = connect(t, wf, trs[name])
			}
			runSteps(t, trs, ws, tt.steps)
			total := 0
			for _, s := range tt.steps {
				if s[0] == 'a' || s[0] == 'b' {
					if n, err := strconv.Atoi(s[1:]); err == nil {
						total += n
					}
				}
			}
			if got := len(rs["a"].data) + len(rs["b"].data); got != total {
				t.Errorf("wrapped protocols got %d bytes, want all %d", got, total)
			}
		})
	}
}

func TestThrottleReadsKeepsOwnPause(t *testing.T) {
	wf := policies.ThrottlingFactory(&testFactory{}, policies.ThrottlingOptions{ReadLimit: 10})
	tr := transporttest.New()
	w, r := connect(t, wf, tr)
	w.DataReceived(make([]byte, 11))
	r.Transport().PauseProducing()
	tr.Clock().Advance(time.Second)
	if !tr.Paused() {
		t.Fatal("the throttle's end resumed a connection its protocol had paused")
	}
	r.Transport().ResumeProducing()
	if tr.Paused() {
		t.Error("still paused after the protocol resumed")
	}
}

func TestThrottleWrites(t *testing.T) {
	tests := []struct {
		name      string
		streaming bool
		// Producer calls after: registration; writing 6 bytes; writing 5
		// more (over the limit of 10); 1 s; 2 s.
		want []string
	}{
		{"streaming", true, []string{"", "", "pause", "resume", ""}},
		{"pull", false, []string{"resume", "resume", "", "resume", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := policies.ThrottlingFactory(&testFactory{}, policies.ThrottlingOptions{WriteLimit: 10})
			tr := transporttest.New()
			_, r := connect(t, wf, tr)
			p := &producer{}
			if err := r.Transport().RegisterProducer(p, tt.streaming); err != nil {
				t.Fatal(err)
			}
			px, _ := tr.Producer()
			var got []string
			mark := func() { got = append(got, strings.Join(p.calls, ",")); p.calls = nil }
			// askMore does what the transport does for a pull producer when
			// it registers and whenever its output drains.
			askMore := func() {
				if !tt.streaming {
					px.ResumeProducing()
				}
			}
			askMore()
			mark()
			_, _ = r.Transport().Write(make([]byte, 6))
			askMore()
			tr.Clock().Advance(0)
			mark()
			_, _ = r.Transport().Write(make([]byte, 5))
			askMore() // held back: over the budget
			tr.Clock().Advance(0)
			mark()
			tr.Clock().Advance(time.Second)
			mark()
			tr.Clock().Advance(time.Second)
			mark()
			if !slices.Equal(got, tt.want) {
				t.Errorf("producer calls %q, want %q", got, tt.want)
			}
			if got := len(tr.Value()); got != 11 {
				t.Errorf("transport got %d bytes, want all 11", got)
			}
		})
	}
}

// selfProducer is an echo that registers its transport as its own producer.
type selfProducer struct{ echo }

func (s *selfProducer) ConnectionMade() { _ = s.Transport().RegisterProducer(s.Transport(), true) }

func TestThrottleWritesOwnProducer(t *testing.T) {
	f := factory.ForProtocol(func() protocol.Protocol { return &selfProducer{} })
	wf := policies.ThrottlingFactory(f, policies.ThrottlingOptions{WriteLimit: 10})
	tr := transporttest.New()
	p := wf.BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("hello"))
	p.DataReceived([]byte("hello!"))
	tr.Clock().Advance(0)
	if !tr.Paused() {
		t.Fatal("an echo over its write budget still reads")
	}
	tr.Clock().Advance(time.Second)
	if tr.Paused() {
		t.Error("the echo still paused in the next window")
	}
	if got := string(tr.Value()); got != "hellohello!" {
		t.Errorf("echoed %q, want %q", got, "hellohello!")
	}
}

func TestThrottleWritesNoProducer(t *testing.T) {
	wf := policies.ThrottlingFactory(&testFactory{echo: true}, policies.ThrottlingOptions{WriteLimit: 3})
	tr := transporttest.New()
	w, _ := connect(t, wf, tr)
	w.DataReceived([]byte("more than three"))
	tr.Clock().Advance(0)
	if got := string(tr.Value()); got != "more than three" {
		t.Errorf("wrote %q, want every byte", got)
	}
	if tr.Paused() {
		t.Error("reading paused for a protocol without a producer")
	}
}

func TestThrottleMaxConnections(t *testing.T) {
	f := &testFactory{}
	wf := policies.ThrottlingFactory(f, policies.ThrottlingOptions{MaxConnections: 2, ReadLimit: 100})
	a, _ := connect(t, wf, transporttest.New())
	connect(t, wf, transporttest.New())
	if wf.BuildProtocol(nil) != nil {
		t.Fatal("third connection admitted over MaxConnections 2")
	}
	a.ConnectionLost(transport.ErrConnectionDone)
	connect(t, wf, transporttest.New())

	only := policies.ThrottlingFactory(&testFactory{}, policies.ThrottlingOptions{MaxConnections: 1})
	b, _ := connect(t, only, transporttest.New())
	if only.BuildProtocol(nil) != nil {
		t.Fatal("second connection admitted over MaxConnections 1")
	}
	b.ConnectionLost(transport.ErrConnectionDone)
	connect(t, only, transporttest.New())
}

func TestThrottleLostCancels(t *testing.T) {
	wf := policies.ThrottlingFactory(&testFactory{echo: true}, policies.ThrottlingOptions{ReadLimit: 1, WriteLimit: 1})
	tr := transporttest.New()
	w, _ := connect(t, wf, tr)
	_ = w.RegisterProducer(&producer{}, true)
	w.DataReceived([]byte("xyz"))
	tr.Clock().Advance(0)
	if n := len(tr.Clock().Calls()); n != 2 {
		t.Fatalf("%d pending calls while throttled, want 2", n)
	}
	w.ConnectionLost(transport.ErrConnectionDone)
	if n := len(tr.Clock().Calls()); n != 0 {
		t.Errorf("%d pending calls after ConnectionLost, want 0", n)
	}
}

func TestThrottleConcurrentCounts(t *testing.T) {
	wf := policies.ThrottlingFactory(&testFactory{echo: true}, policies.ThrottlingOptions{ReadLimit: 1 << 40, WriteLimit: 1 << 40})
	var wg sync.WaitGroup
	const goroutines, rounds = 8, 500
	for range goroutines {
		wg.Go(func() {
			tr := transporttest.New() // every clock reads Epoch: one window
			p := wf.BuildProtocol(tr.RemoteAddr())
			if p == nil {
				t.Error("connection refused")
				return
			}
			protocol.MakeConnection(p, tr)
			w := p.(*policies.ProtocolWrapper)
			for range rounds {
				w.DataReceived([]byte("abc"))
				tr.Clear()
			}
			w.ConnectionLost(transport.ErrConnectionDone)
		})
	}
	wg.Wait()
	reads, writes := policies.BudgetUsed(wf)
	if want := int64(goroutines * rounds * 3); reads != want || writes != want {
		t.Errorf("counted %d bytes read, %d written; want %d each", reads, writes, want)
	}
}
