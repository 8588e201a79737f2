package policies_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// recorder records what its connection tells it; it echoes when echo is set.
type recorder struct {
	protocol.Base
	echo bool
	made int
	data []byte
	lost []error
}

func (r *recorder) ConnectionMade() { r.made++ }

func (r *recorder) DataReceived(data []byte) {
	r.data = append(r.data, data...)
	if r.echo {
		_, _ = r.Transport().Write(data)
	}
}

func (r *recorder) ConnectionLost(reason error) { r.lost = append(r.lost, reason) }

// echo writes back what it receives and keeps nothing.
type echo struct{ protocol.Base }

func (e *echo) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

func newEcho() protocol.Protocol { return &echo{} }

// testFactory builds recorders and counts its calls. Safe from any goroutine.
type testFactory struct {
	starts, stops, built atomic.Int32
	refuse               bool
	echo                 bool
}

func (f *testFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.built.Add(1)
	if f.refuse {
		return nil
	}
	return &recorder{echo: f.echo}
}

func (f *testFactory) StartFactory() { f.starts.Add(1) }
func (f *testFactory) StopFactory()  { f.stops.Add(1) }

// connect does what the reactor does for a new connection on tr; it fails
// the test if f refuses.
func connect(t testing.TB, f factory.Factory, tr *transporttest.Transport) (*policies.ProtocolWrapper, *recorder) {
	t.Helper()
	p := f.BuildProtocol(tr.RemoteAddr())
	if p == nil {
		t.Fatal("BuildProtocol refused the connection")
	}
	protocol.MakeConnection(p, tr)
	w := p.(*policies.ProtocolWrapper)
	inner := w.Wrapped()
	for {
		iw, ok := inner.(*policies.ProtocolWrapper)
		if !ok {
			break
		}
		inner = iw.Wrapped()
	}
	r, _ := inner.(*recorder)
	return w, r
}

func TestWrapperPassesData(t *testing.T) {
	input := []byte("hello\r\nwhirl\r\n")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			tr := transporttest.New()
			w, r := connect(t, policies.NewWrappingFactory(&testFactory{echo: true}, nil), tr)
			if got := r.Transport(); got != transport.Transport(w) {
				t.Fatalf("wrapped protocol's transport = %T, want the wrapper", got)
			}
			if got := w.Transport(); got != transport.Transport(tr) {
				t.Fatalf("wrapper's transport = %T, want the real one", got)
			}
			if r.made != 1 {
				t.Errorf("ConnectionMade ran %d times, want 1", r.made)
			}
			for _, piece := range transporttest.Chunks(input, size) {
				w.DataReceived(piece)
			}
			if got, want := string(r.data), string(input); got != want {
				t.Errorf("wrapped protocol got %q, want %q", got, want)
			}
			if got, want := string(tr.Value()), string(input); got != want {
				t.Errorf("transport got %q, want %q", got, want)
			}
		})
	}
}

func TestWrapperTransportMethods(t *testing.T) {
	tests := []struct {
		name  string
		do    func(w *policies.ProtocolWrapper)
		check func(tr *transporttest.Transport) error
	}{
		{"WriteSequence", func(w *policies.ProtocolWrapper) {
			_ = w.WriteSequence([][]byte{[]byte("a"), nil, []byte("bc")})
		}, func(tr *transporttest.Transport) error {
			return want("output", string(tr.Value()), "abc")
		}},
		{"SetTCPNoDelay", func(w *policies.ProtocolWrapper) { _ = w.SetTCPNoDelay(true) },
			func(tr *transporttest.Transport) error { return want("NoDelay", tr.NoDelay(), true) }},
		{"SetTCPKeepAlive", func(w *policies.ProtocolWrapper) { _ = w.SetTCPKeepAlive(time.Minute, time.Second, 3) },
			func(tr *transporttest.Transport) error {
				idle, interval, count := tr.KeepAlive()
				return want("KeepAlive", fmt.Sprint(idle, interval, count), "1m0s 1s 3")
			}},
		{"SetWriteWatermarks", func(w *policies.ProtocolWrapper) { w.SetWriteWatermarks(100, 10) },
			func(tr *transporttest.Transport) error {
				high, low := tr.WriteWatermarks()
				return want("watermarks", fmt.Sprint(high, low), "100 10")
			}},
		{"LoseConnection", func(w *policies.ProtocolWrapper) { w.LoseConnection() },
			func(tr *transporttest.Transport) error {
				return want("disconnecting, aborted", fmt.Sprint(tr.Disconnecting(), tr.Aborted()), "true false")
			}},
		{"AbortConnection", func(w *policies.ProtocolWrapper) { w.AbortConnection() },
			func(tr *transporttest.Transport) error { return want("Aborted", tr.Aborted(), true) }},
		{"StopProducing", func(w *policies.ProtocolWrapper) { w.StopProducing() },
			func(tr *transporttest.Transport) error { return want("Disconnecting", tr.Disconnecting(), true) }},
		{"PauseProducing", func(w *policies.ProtocolWrapper) { w.PauseProducing() },
			func(tr *transporttest.Transport) error { return want("Paused", tr.Paused(), true) }},
		{"ResumeProducing", func(w *policies.ProtocolWrapper) { w.PauseProducing(); w.ResumeProducing() },
			func(tr *transporttest.Transport) error { return want("Paused", tr.Paused(), false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			w, _ := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), tr)
			tt.do(w)
			if err := tt.check(tr); err != nil {
				t.Error(err)
			}
			if got, want := w.Connected(), tr.Connected(); got != want {
				t.Errorf("wrapper Connected() = %v, transport's %v", got, want)
			}
			if got, want := w.Disconnecting(), tr.Disconnecting(); got != want {
				t.Errorf("wrapper Disconnecting() = %v, transport's %v", got, want)
			}
		})
	}
}

func want[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s = %v, want %v", what, got, want)
	}
	return nil
}

func TestWrapperAccessors(t *testing.T) {
	tr := transporttest.New()
	tr.SetRemoteAddr(&net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 9})
	f := &testFactory{}
	wf := policies.NewWrappingFactory(f, nil)
	w, r := connect(t, wf, tr)
	if wf.Wrapped() != factory.Factory(f) {
		t.Error("Wrapped() is not the wrapped factory")
	}
	if w.Wrapped() != protocol.Protocol(r) {
		t.Error("ProtocolWrapper.Wrapped() is not the wrapped protocol")
	}
	if w.Unwrap() != transport.Transport(tr) {
		t.Error("Unwrap() is not the real transport")
	}
	if w.RemoteAddr() != tr.RemoteAddr() || w.LocalAddr() != tr.LocalAddr() {
		t.Errorf("addresses %v %v, want %v %v", w.RemoteAddr(), w.LocalAddr(), tr.RemoteAddr(), tr.LocalAddr())
	}
	if w.Loop() != tr.Loop() {
		t.Error("Loop() is not the real transport's loop")
	}
}

func TestWrappingFactoryRefuses(t *testing.T) {
	f := &testFactory{refuse: true}
	if p := policies.NewWrappingFactory(f, nil).BuildProtocol(transporttest.New().RemoteAddr()); p != nil {
		t.Errorf("BuildProtocol() = %T, want nil when the wrapped factory refuses", p)
	}
	if got := f.built.Load(); got != 1 {
		t.Errorf("wrapped BuildProtocol ran %d times, want 1", got)
	}
}

func TestStartStopFactory(t *testing.T) {
	tests := []struct {
		calls         string // s: StartFactory, x: StopFactory
		starts, stops int32
	}{
		{"", 0, 0},
		{"s", 1, 0},
		{"sx", 1, 1},
		{"ssx", 1, 0},
		{"ssxx", 1, 1},
		{"x", 0, 0},
		{"xs", 1, 0},
		{"sxx", 1, 1},
		{"sxsx", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.calls, func(t *testing.T) {
			f := &testFactory{}
			wf := policies.NewWrappingFactory(f, nil)
			for _, c := range tt.calls {
				if c == 's' {
					wf.StartFactory()
				} else {
					wf.StopFactory()
				}
			}
			if got, got2 := f.starts.Load(), f.stops.Load(); got != tt.starts || got2 != tt.stops {
				t.Errorf("wrapped factory started %d, stopped %d times; want %d, %d", got, got2, tt.starts, tt.stops)
			}
		})
	}
}

func TestStartStopShared(t *testing.T) {
	f := &testFactory{}
	shared := policies.TimeoutFactory(f, time.Second)
	a := policies.LimitTotalConnections(shared, 5, nil)
	b := policies.TrafficLogging(shared, discard, 0)
	a.StartFactory()
	b.StartFactory()
	a.StopFactory()
	if got := f.starts.Load(); got != 1 {
		t.Errorf("started %d times, want 1", got)
	}
	if got := f.stops.Load(); got != 0 {
		t.Errorf("stopped %d times while still in use, want 0", got)
	}
	b.StopFactory()
	if got := f.stops.Load(); got != 1 {
		t.Errorf("stopped %d times, want 1", got)
	}
}

func TestPoliciesPassStartStop(t *testing.T) {
	tests := []struct {
		name string
		wrap func(factory.Factory) *policies.WrappingFactory
	}{
		{"NewWrappingFactory", func(f factory.Factory) *policies.WrappingFactory { return policies.NewWrappingFactory(f, nil) }},
		{"LimitTotalConnections", func(f factory.Factory) *policies.WrappingFactory {
			return policies.LimitTotalConnections(f, 1, newBusy)
		}},
		{"LimitConnectionsByPeer", func(f factory.Factory) *policies.WrappingFactory { return policies.LimitConnectionsByPeer(f, 1) }},
		{"TimeoutFactory", func(f factory.Factory) *policies.WrappingFactory { return policies.TimeoutFactory(f, time.Second) }},
		{"ThrottlingFactory", func(f factory.Factory) *policies.WrappingFactory {
			return policies.ThrottlingFactory(f, policies.ThrottlingOptions{MaxConnections: 1, ReadLimit: 1, WriteLimit: 1})
		}},
		{"TrafficLogging", func(f factory.Factory) *policies.WrappingFactory { return policies.TrafficLogging(f, discard, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &testFactory{}
			wf := tt.wrap(f)
			wf.StartFactory()
			wf.StartFactory() // a second port
			if got, got2 := f.starts.Load(), f.stops.Load(); got != 1 || got2 != 0 {
				t.Fatalf("after two starts: started %d, stopped %d times; want 1, 0", got, got2)
			}
			wf.StopFactory()
			wf.StopFactory()
			if got, got2 := f.starts.Load(), f.stops.Load(); got != 1 || got2 != 1 {
				t.Errorf("after two stops: started %d, stopped %d times; want 1, 1", got, got2)
			}
			if f.built.Load() != 0 {
				t.Error("StartFactory or StopFactory built a protocol")
			}
		})
	}
}

type panicStart struct {
	testFactory
	panics int
}

func (f *panicStart) StartFactory() {
	if f.panics > 0 {
		f.panics--
		panic("start failed")
	}
	f.testFactory.StartFactory()
}

func TestStartFactoryPanics(t *testing.T) {
	f := &panicStart{panics: 1}
	wf := policies.NewWrappingFactory(f, nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the wrapped StartFactory's panic did not go on")
			}
		}()
		wf.StartFactory()
	}()
	wf.StopFactory() // matches nothing: the failed start was not counted
	if got := f.stops.Load(); got != 0 {
		t.Errorf("StopFactory after a failed start stopped %d times, want 0", got)
	}
	wf.StartFactory()
	wf.StopFactory()
	if got, got2 := f.starts.Load(), f.stops.Load(); got != 1 || got2 != 1 {
		t.Errorf("started %d, stopped %d times after the retry; want 1, 1", got, got2)
	}
}

// eventLog is a policy that records the order of events.
type eventLog struct {
	events []string
}

func (l *eventLog) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, policies.Hooks) {
	l.events = append(l.events, "build")
	_ = next()
	return &orderProto{log: l}, l
}

func (l *eventLog) ConnectionMade(*policies.ProtocolWrapper) {
	l.events = append(l.events, "hook made")
}
func (l *eventLog) DataReceived(_ *policies.ProtocolWrapper, d []byte) {
	l.events = append(l.events, "hook data "+string(d))
}
func (l *eventLog) Wrote(_ *policies.ProtocolWrapper, d []byte) {
	l.events = append(l.events, "hook wrote "+string(d))
}
func (l *eventLog) ConnectionLost(*policies.ProtocolWrapper, error) {
	l.events = append(l.events, "hook lost")
}

// orderProto writes what it receives and logs its own events.
type orderProto struct {
	protocol.Base
	log *eventLog
}

func (p *orderProto) ConnectionMade() { p.log.events = append(p.log.events, "made") }
func (p *orderProto) DataReceived(d []byte) {
	p.log.events = append(p.log.events, "data "+string(d))
	_, _ = p.Transport().Write(bytes.ToUpper(d))
}
func (p *orderProto) ConnectionLost(error) {
	p.log.events = append(p.log.events, "lost")
	panic("lost")
}

func TestHooksOrder(t *testing.T) {
	l := &eventLog{}
	wf := policies.NewWrappingFactory(&testFactory{}, l)
	tr := transporttest.New()
	w, _ := connect(t, wf, tr)
	if got := wf.Open(); got != 1 {
		t.Errorf("Open() = %d after ConnectionMade, want 1", got)
	}
	w.DataReceived([]byte("x"))
	func() {
		defer func() { _ = recover() }()
		w.ConnectionLost(transport.ErrConnectionDone)
	}()
	w.ConnectionLost(transport.ErrConnectionDone) // a second call does nothing
	want := []string{"build", "hook made", "made", "hook data x", "data x", "hook wrote X", "lost", "hook lost"}
	if !slices.Equal(l.events, want) {
		t.Errorf("events:\n got %q\nwant %q", l.events, want)
	}
	if got := wf.Open(); got != 0 {
		t.Errorf("Open() = %d after ConnectionLost, want 0", got)
	}
}

func TestConnectionLostOnce(t *testing.T) {
	wf := policies.NewWrappingFactory(&testFactory{}, nil)
	p := wf.BuildProtocol(transporttest.New().RemoteAddr())
	p.ConnectionLost(transport.ErrConnectionDone) // never connected: nothing to do
	if got := wf.Open(); got != 0 {
		t.Fatalf("Open() = %d after ConnectionLost without ConnectionMade, want 0", got)
	}
	tr := transporttest.New()
	w, r := connect(t, wf, tr)
	reason := transport.Lost(errors.New("reset"))
	w.ConnectionLost(reason)
	w.ConnectionLost(transport.ErrConnectionDone)
	if len(r.lost) != 1 || r.lost[0] != reason {
		t.Errorf("wrapped protocol's ConnectionLost got %v, want [%v]", r.lost, reason)
	}
}

// panicMade is a policy whose ConnectionMade hook panics.
type panicMade struct{ policies.NopHooks }

func (p panicMade) Build(_ net.Addr, next func() protocol.Protocol) (protocol.Protocol, policies.Hooks) {
	return next(), p
}

func (panicMade) ConnectionMade(*policies.ProtocolWrapper) { panic("hook") }

func TestHookPanicsBeforeInnerMade(t *testing.T) {
	wf := policies.NewWrappingFactory(&testFactory{}, panicMade{})
	tr := transporttest.New()
	p := wf.BuildProtocol(tr.RemoteAddr())
	func() {
		defer func() { _ = recover() }()
		protocol.MakeConnection(p, tr)
	}()
	p.ConnectionLost(transport.Aborted(errors.New("panic"))) // as the reactor does after the panic
	r := p.(*policies.ProtocolWrapper).Wrapped().(*recorder)
	if r.made != 0 || len(r.lost) != 0 {
		t.Errorf("wrapped protocol saw %d ConnectionMade, %d ConnectionLost; want none", r.made, len(r.lost))
	}
	if got := wf.Open(); got != 0 {
		t.Errorf("Open() = %d, want 0", got)
	}
}

func TestReadPauses(t *testing.T) {
	// Each step is applied to the wrapper; paused is the transport's state after it.
	tests := []struct {
		name  string
		steps string // p: PauseProducing, r: ResumeProducing, t: ThrottleReads, u: UnthrottleReads
		want  string // Paused() after each step, as 0/1
	}{
		{"own pause", "pr", "10"},
		{"throttle", "tu", "10"},
		{"throttle lifted under own pause", "ptu", "111"},
		{"own resume under throttle", "tpr", "111"},
		{"both lifted", "ptru", "1110"},
		{"repeated", "ppttrru", "1111110"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			w, _ := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), tr)
			got := ""
			for _, s := range tt.steps {
				switch s {
				case 'p':
					w.PauseProducing()
				case 'r':
					w.ResumeProducing()
				case 't':
					w.ThrottleReads()
				case 'u':
					w.UnthrottleReads()
				}
				got += map[bool]string{false: "0", true: "1"}[tr.Paused()]
			}
			if got != tt.want {
				t.Errorf("paused after %q: %s, want %s", tt.steps, got, tt.want)
			}
		})
	}
}

// producer records the calls it gets.
type producer struct{ calls []string }

func (p *producer) PauseProducing()  { p.calls = append(p.calls, "pause") }
func (p *producer) ResumeProducing() { p.calls = append(p.calls, "resume") }
func (p *producer) StopProducing()   { p.calls = append(p.calls, "stop") }

func TestProducerThrottle(t *testing.T) {
	tests := []struct {
		name      string
		streaming bool
		steps     string // P/R/S: the transport pauses, resumes, stops the proxy; t/u: ThrottleWrites/UnthrottleWrites
		want      []string
	}{
		{"streaming passes through", true, "PRS", []string{"pause", "resume", "stop"}},
		{"streaming throttled", true, "tu", []string{"pause", "resume"}},
		{"streaming held by both", true, "PtRu", []string{"pause", "resume"}},
		{"streaming throttle inside pause", true, "PtuR", []string{"pause", "resume"}},
		{"streaming repeated throttle", true, "ttuu", []string{"pause", "resume"}},
		{"pull passes through", false, "RR", []string{"resume", "resume"}},
		{"pull owed", false, "tRRu", []string{"resume"}},
		{"pull not owed", false, "tu", nil},
		{"pull pause ignored", false, "PR", []string{"resume"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			w, _ := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), tr)
			p := &producer{}
			if err := w.RegisterProducer(p, tt.streaming); err != nil {
				t.Fatalf("RegisterProducer: %v", err)
			}
			px, streaming := tr.Producer()
			if px == nil || streaming != tt.streaming {
				t.Fatalf("transport's producer %v (streaming %v), want the proxy (streaming %v)", px, streaming, tt.streaming)
			}
			for _, s := range tt.steps {
				switch s {
				case 'P':
					px.PauseProducing()
				case 'R':
					px.ResumeProducing()
				case 'S':
					px.StopProducing()
				case 't':
					w.ThrottleWrites()
				case 'u':
					w.UnthrottleWrites()
				}
				tr.Clock().Advance(0) // the throttle reaches the producer on the loop
			}
			if !slices.Equal(p.calls, tt.want) {
				t.Errorf("producer calls %q, want %q", p.calls, tt.want)
			}
		})
	}
}

func TestRegisterProducerWhileThrottled(t *testing.T) {
	tr := transporttest.New()
	w, _ := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), tr)
	w.ThrottleWrites()
	p := &producer{}
	if err := w.RegisterProducer(p, true); err != nil {
		t.Fatalf("RegisterProducer: %v", err)
	}
	tr.Clock().Advance(0)
	if want := []string{"pause"}; !slices.Equal(p.calls, want) {
		t.Errorf("producer calls %q, want %q", p.calls, want)
	}
	if err := w.RegisterProducer(&producer{}, true); !errors.Is(err, transport.ErrProducerRegistered) {
		t.Errorf("second RegisterProducer = %v, want ErrProducerRegistered", err)
	}
	w.UnregisterProducer()
	if px, _ := tr.Producer(); px != nil {
		t.Errorf("transport still has producer %v after UnregisterProducer", px)
	}
	w.UnthrottleWrites()
	tr.Clock().Advance(0)
	if want := []string{"pause"}; !slices.Equal(p.calls, want) {
		t.Errorf("unregistered producer got calls %q, want %q", p.calls, want)
	}
}

// notified records write-buffer notices.
type notified struct {
	recorder
	notes []string
}

func (n *notified) WriteBufferFull()    { n.notes = append(n.notes, "full") }
func (n *notified) WriteBufferDrained() { n.notes = append(n.notes, "drained") }

func TestWriteBufferNotifier(t *testing.T) {
	n := &notified{}
	f := factory.ForProtocol(func() protocol.Protocol { return n })
	tr := transporttest.New()
	p := policies.NewWrappingFactory(f, nil).BuildProtocol(tr.RemoteAddr())
	protocol.MakeConnection(p, tr)
	bn := p.(protocol.WriteBufferNotifier)
	bn.WriteBufferFull()
	bn.WriteBufferDrained()
	if want := []string{"full", "drained"}; !slices.Equal(n.notes, want) {
		t.Errorf("notices %q, want %q", n.notes, want)
	}
	// A protocol without the methods: the wrapper's do nothing.
	w, _ := connect(t, policies.NewWrappingFactory(&testFactory{}, nil), transporttest.New())
	w.WriteBufferFull()
	w.WriteBufferDrained()
}

func TestNestedWrappers(t *testing.T) {
	f := &testFactory{echo: true}
	wf := policies.TimeoutFactory(policies.LimitTotalConnections(f, 1, nil), time.Minute)
	tr := transporttest.New()
	w, r := connect(t, wf, tr)
	inner := w.Wrapped().(*policies.ProtocolWrapper)
	if inner.Transport() != transport.Transport(w) {
		t.Error("the inner wrapper's transport is not the outer wrapper")
	}
	w.DataReceived([]byte("ping"))
	if got := string(tr.Value()); got != "ping" {
		t.Errorf("echoed %q through two wrappers, want %q", got, "ping")
	}
	r.Transport().PauseProducing()
	if !tr.Paused() {
		t.Error("a pause two wrappers down did not reach the transport")
	}
	wf.StartFactory()
	wf.StopFactory()
	if got, got2 := f.starts.Load(), f.stops.Load(); got != 1 || got2 != 1 {
		t.Errorf("started %d, stopped %d times through two wrappers; want 1, 1", got, got2)
	}
}

func BenchmarkWrapperEcho(b *testing.B) {
	for _, size := range []int{16, 1024} {
		msg := bytes.Repeat([]byte("x"), size)
		for _, bc := range []struct {
			name string
			wrap func(factory.Factory) factory.Factory
		}{
			{"plain", func(f factory.Factory) factory.Factory { return policies.NewWrappingFactory(f, nil) }},
			{"timeout", func(f factory.Factory) factory.Factory { return policies.TimeoutFactory(f, time.Minute) }},
			{"throttle", func(f factory.Factory) factory.Factory {
				return policies.ThrottlingFactory(f, policies.ThrottlingOptions{ReadLimit: 1 << 62, WriteLimit: 1 << 62})
			}},
		} {
			b.Run(fmt.Sprintf("%s/%d", bc.name, size), func(b *testing.B) {
				tr := transporttest.New()
				w, _ := connect(b, bc.wrap(factory.ForProtocol(newEcho)), tr)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					w.DataReceived(msg)
					tr.Clear()
				}
			})
		}
	}
}
