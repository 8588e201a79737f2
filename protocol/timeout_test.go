package protocol_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// toDirect embeds Base and Timeout side by side and keeps the default
// TimeoutConnection.
type toDirect struct {
	protocol.Base
	protocol.Timeout
}

func (p *toDirect) ConnectionMade() { p.Timeout.Bind(p) }

// toLine embeds a LineReceiver (so Base two levels down) and a Timeout,
// resets the timeout on every line, and disarms it in ConnectionLost.
type toLine struct {
	protocol.LineReceiver
	protocol.Timeout
	d     time.Duration
	lines []string
}

func (p *toLine) ConnectionMade() {
	p.Timeout.Bind(p)
	p.SetTimeout(p.d)
}

func (p *toLine) LineReceived(line []byte) {
	p.ResetTimeout()
	p.lines = append(p.lines, string(line))
}

func (p *toLine) ConnectionLost(error) { p.SetTimeout(0) }

// toFramer is a base of our own on top of Base, as a framing protocol is.
type toFramer struct{ protocol.Base }

func (f *toFramer) DataReceived(data []byte) {}

// toNested has Base three levels down, through toFramer, and a Timeout.
type toNested struct {
	toFramer
	protocol.Timeout
}

func (p *toNested) ConnectionMade() { p.Timeout.Bind(p) }

// toCounting overrides TimeoutConnection to count the timeouts instead of
// closing the connection.
type toCounting struct {
	protocol.Base
	protocol.Timeout
	fired int
}

func (p *toCounting) ConnectionMade()    { p.Timeout.Bind(p) }
func (p *toCounting) TimeoutConnection() { p.fired++ }

// toGoodbye writes a message, then calls the default TimeoutConnection.
type toGoodbye struct {
	protocol.Base
	protocol.Timeout
}

func (p *toGoodbye) ConnectionMade() { p.Timeout.Bind(p) }

func (p *toGoodbye) TimeoutConnection() {
	_, _ = p.Transport().Write([]byte("timed out\n"))
	p.Timeout.TimeoutConnection()
}

var (
	_ protocol.TimeoutHandler = (*toDirect)(nil)
	_ protocol.TimeoutHandler = (*toLine)(nil)
	_ protocol.TimeoutHandler = (*toNested)(nil)
	_ protocol.TimeoutHandler = (*toCounting)(nil)
)

// armed is what each embedding shape looks like to the tests.
type armed interface {
	protocol.Protocol
	SetTimeout(d time.Duration) time.Duration
}

// pendingDue returns when each pending call of c is due, relative to Epoch.
func pendingDue(c *transporttest.Clock) []time.Duration {
	var due []time.Duration
	for _, dc := range c.Calls() {
		due = append(due, dc.Time().Sub(transporttest.Epoch))
	}
	return due
}

func TestTimeoutDefaultLosesConnection(t *testing.T) {
	tests := []struct {
		name string
		p    armed
	}{
		{"beside Base", &toDirect{}},
		{"beside LineReceiver", &toLine{}},
		{"beside a base of a base", &toNested{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			protocol.MakeConnection(tt.p, tr)
			if prev := tt.p.SetTimeout(10 * time.Second); prev != 0 {
				t.Errorf("first SetTimeout returned %v, want 0", prev)
			}
			tr.Clock().Advance(10*time.Second - time.Nanosecond)
			if !tr.Connected() {
				t.Fatal("closed before the timeout")
			}
			tr.Clock().Advance(time.Nanosecond)
			if tr.Connected() {
				t.Error("still connected after the timeout")
			}
			if tr.Aborted() {
				t.Error("aborted, want LoseConnection")
			}
			if got := len(tr.Clock().Calls()); got != 0 {
				t.Errorf("%d calls pending after the timeout, want 0", got)
			}
		})
	}
}

func TestTimeoutCountdown(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name        string
		steps       func(p *toCounting, c *transporttest.Clock)
		wantFired   int
		wantPending []time.Duration // due times of pending calls, from Epoch
	}{
		{"fires after d", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(10 * s)
		}, 1, nil},
		{"not before d", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(10*s - 1)
		}, 0, []time.Duration{10 * s}},
		{"fires once", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Pump(10*s, 10*s, time.Hour)
		}, 1, nil},
		{"reset restarts the countdown", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(6 * s)
			p.ResetTimeout()
			c.Advance(6 * s)
		}, 0, []time.Duration{16 * s}},
		{"reset then quiet", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(6 * s)
			p.ResetTimeout()
			c.Advance(10 * s)
		}, 1, nil},
		{"set while armed restarts with the new timeout", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(6 * s)
			p.SetTimeout(3 * s)
		}, 0, []time.Duration{9 * s}},
		{"set shorter while armed fires at the new time", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(6 * s)
			p.SetTimeout(3 * s)
			c.Advance(3 * s)
		}, 1, nil},
		{"zero disarms", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			p.SetTimeout(0)
			c.Advance(time.Hour)
		}, 0, nil},
		{"negative disarms", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			p.SetTimeout(-s)
			c.Advance(time.Hour)
		}, 0, nil},
		{"reset while disarmed does nothing", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			p.SetTimeout(0)
			p.ResetTimeout()
			c.Advance(time.Hour)
		}, 0, nil},
		{"reset before any set does nothing", func(p *toCounting, c *transporttest.Clock) {
			p.ResetTimeout()
			c.Advance(time.Hour)
		}, 0, nil},
		{"reset after it ran out does nothing", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(10 * s)
			p.ResetTimeout()
			c.Advance(time.Hour)
		}, 1, nil},
		{"set after it ran out arms again", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(10 * s)
			p.SetTimeout(5 * s)
			c.Advance(5 * s)
		}, 2, nil},
		{"re-armed after being disarmed", func(p *toCounting, c *transporttest.Clock) {
			p.SetTimeout(10 * s)
			c.Advance(4 * s)
			p.SetTimeout(0)
			p.SetTimeout(10 * s)
		}, 0, []time.Duration{14 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			p := &toCounting{}
			protocol.MakeConnection(p, tr)
			tt.steps(p, tr.Clock())
			if p.fired != tt.wantFired {
				t.Errorf("TimeoutConnection called %d times, want %d", p.fired, tt.wantFired)
			}
			if got := pendingDue(tr.Clock()); !slices.Equal(got, tt.wantPending) {
				t.Errorf("pending calls due at %v, want %v", got, tt.wantPending)
			}
			if !tr.Connected() {
				t.Error("an overridden TimeoutConnection closed the connection")
			}
		})
	}
}

func TestTimeoutSetTimeoutReturnsPrevious(t *testing.T) {
	p := &toCounting{}
	protocol.MakeConnection(p, transporttest.New())
	steps := []struct {
		d          time.Duration
		wantPrev   time.Duration
		wantPeriod time.Duration
	}{
		{5 * time.Second, 0, 5 * time.Second},
		{10 * time.Second, 5 * time.Second, 10 * time.Second},
		{10 * time.Second, 10 * time.Second, 10 * time.Second},
		{0, 10 * time.Second, 0},
		{0, 0, 0},
		{-time.Second, 0, 0},
		{time.Minute, 0, time.Minute},
	}
	for i, st := range steps {
		t.Run(fmt.Sprintf("%d:%v", i, st.d), func(t *testing.T) {
			if got := p.SetTimeout(st.d); got != st.wantPrev {
				t.Errorf("SetTimeout(%v) = %v, want %v", st.d, got, st.wantPrev)
			}
			if got := p.TimeoutPeriod(); got != st.wantPeriod {
				t.Errorf("TimeoutPeriod() = %v, want %v", got, st.wantPeriod)
			}
		})
	}
}

func TestTimeoutPeriodKeptAfterFiring(t *testing.T) {
	tr := transporttest.New()
	p := &toCounting{}
	protocol.MakeConnection(p, tr)
	p.SetTimeout(time.Second)
	tr.Clock().Advance(time.Second)
	if got, want := p.TimeoutPeriod(), time.Second; got != want {
		t.Errorf("TimeoutPeriod() after firing = %v, want %v", got, want)
	}
	if got, want := p.SetTimeout(2*time.Second), time.Second; got != want {
		t.Errorf("SetTimeout after firing = %v, want %v", got, want)
	}
}

// TestTimeoutResetByLines feeds lines in pieces of every size, one second
// apart: the whole input takes longer than the timeout at small sizes, but no
// line takes as long, so only the resets keep the connection open.
func TestTimeoutResetByLines(t *testing.T) {
	const d = 10 * time.Second
	input := []byte("a\r\nbb\r\nccc\r\ndddd\r\n")
	want := []string{"a", "bb", "ccc", "dddd"}
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("size %d", size), func(t *testing.T) {
			tr := transporttest.New()
			p := &toLine{d: d}
			protocol.MakeConnection(p, tr)
			for _, piece := range transporttest.Chunks(input, size) {
				tr.Clock().Advance(time.Second)
				p.DataReceived(piece)
			}
			if got := strings.Join(p.lines, ","); got != strings.Join(want, ",") {
				t.Errorf("lines %q, want %q", p.lines, want)
			}
			tr.Clock().Advance(d - time.Nanosecond)
			if !tr.Connected() {
				t.Fatal("timed out while lines kept coming")
			}
			tr.Clock().Advance(time.Nanosecond)
			if tr.Connected() {
				t.Error("still connected a timeout after the last line")
			}
		})
	}
}

func TestTimeoutDisarmedInConnectionLost(t *testing.T) {
	tr := transporttest.New()
	p := &toLine{d: time.Minute}
	protocol.MakeConnection(p, tr)
	tr.LoseConnection()
	p.ConnectionLost(transport.ErrConnectionDone)
	if got := len(tr.Clock().Calls()); got != 0 {
		t.Errorf("%d calls pending after ConnectionLost, want 0", got)
	}
}

// TestTimeoutAfterClose checks that a countdown left running by a protocol
// that does not disarm it does no harm when it fires on a closed connection.
func TestTimeoutAfterClose(t *testing.T) {
	tests := []struct {
		name    string
		p       armed
		wantOut string
	}{
		{"default", &toDirect{}, ""},
		{"writes then calls the default", &toGoodbye{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			protocol.MakeConnection(tt.p, tr)
			tt.p.SetTimeout(time.Second)
			tr.LoseConnection()
			tt.p.ConnectionLost(transport.ErrConnectionDone) // does not disarm
			tr.Clock().Advance(time.Second)
			if tr.Connected() || tr.Aborted() {
				t.Errorf("connected %v, aborted %v; want closed cleanly", tr.Connected(), tr.Aborted())
			}
			if got := string(tr.Value()); got != tt.wantOut {
				t.Errorf("wrote %q, want %q", got, tt.wantOut)
			}
		})
	}
}

func TestTimeoutOverrideCallsDefault(t *testing.T) {
	tr := transporttest.New()
	p := &toGoodbye{}
	protocol.MakeConnection(p, tr)
	p.SetTimeout(time.Second)
	tr.Clock().Advance(time.Second)
	if got, want := string(tr.Value()), "timed out\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if tr.Connected() {
		t.Error("still connected after the timeout")
	}
}

// timeoutPanic returns what fn panics with, or nil.
func timeoutPanic(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

func TestTimeoutNotBound(t *testing.T) {
	tests := []struct {
		name      string
		fn        func()
		wantPanic bool
	}{
		{"arm after Wire, without Bind (Wire binds)", func() {
			p := &toDirect{}
			protocol.Wire(p, transporttest.New())
			p.SetTimeout(time.Second)
		}, false},
		{"arm before MakeConnection", func() {
			p := &toDirect{}
			p.Timeout.Bind(p)
			p.SetTimeout(time.Second)
		}, true},
		{"disarm without Bind", func() {
			p := &toDirect{}
			p.SetTimeout(0)
		}, false},
		{"reset without Bind", func() {
			p := &toDirect{}
			p.ResetTimeout()
		}, false},
		{"default TimeoutConnection without Bind", func() {
			p := &toDirect{}
			p.TimeoutConnection()
		}, false},
		{"default TimeoutConnection before MakeConnection", func() {
			p := &toDirect{}
			p.Timeout.Bind(p)
			p.TimeoutConnection()
		}, false},
		{"bound before MakeConnection, armed after", func() {
			p := &toDirect{}
			p.Timeout.Bind(p)
			protocol.Wire(p, transporttest.New())
			p.SetTimeout(time.Second)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := timeoutPanic(tt.fn)
			if !tt.wantPanic {
				if v != nil {
					t.Fatalf("panicked with %v, want no panic", v)
				}
				return
			}
			err, ok := v.(error)
			if !ok || !errors.Is(err, protocol.ErrTimeoutNotBound) {
				t.Errorf("panicked with %v, want an error matching ErrTimeoutNotBound", v)
			}
		})
	}
}

func BenchmarkTimeoutResetTimeout(b *testing.B) {
	p := &toCounting{}
	protocol.MakeConnection(p, transporttest.New())
	p.SetTimeout(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		p.ResetTimeout()
	}
}

// timeoutSession echoes lines, and says goodbye to a client that stays
// silent for 30 seconds.
type timeoutSession struct {
	protocol.LineReceiver
	protocol.Timeout
}

func (s *timeoutSession) ConnectionMade() {
	s.Timeout.Bind(s)
	s.SetTimeout(30 * time.Second)
}

func (s *timeoutSession) LineReceived(line []byte) {
	s.ResetTimeout()
	_ = s.SendLine(line)
}

func (s *timeoutSession) TimeoutConnection() {
	_ = s.SendLine([]byte("idle for too long"))
	s.Timeout.TimeoutConnection() // the default: LoseConnection
}

func (s *timeoutSession) ConnectionLost(reason error) { s.SetTimeout(0) }

func ExampleTimeout() {
	tr := transporttest.New()
	s := &timeoutSession{}
	protocol.MakeConnection(s, tr)

	tr.Clock().Advance(20 * time.Second)
	s.DataReceived([]byte("hello\r\n")) // restarts the countdown
	tr.Clock().Advance(20 * time.Second)
	fmt.Println("connected after 40s:", tr.Connected())

	tr.Clock().Advance(10 * time.Second) // 30s since the last line
	fmt.Printf("%q connected: %v\n", tr.Value(), tr.Connected())
	// Output:
	// connected after 40s: true
	// "hello\r\nidle for too long\r\n" connected: false
}

// autoBound embeds Base and Timeout and never calls Bind.
type autoBound struct {
	protocol.Base
	protocol.Timeout
}

func (a *autoBound) ConnectionMade() { a.SetTimeout(time.Second) }

func TestTimeoutBoundByMakeConnection(t *testing.T) {
	tr := transporttest.New()
	protocol.MakeConnection(&autoBound{}, tr)
	tr.Clock().Advance(999 * time.Millisecond)
	if !tr.Connected() {
		t.Fatal("timed out early")
	}
	tr.Clock().Advance(time.Millisecond)
	if tr.Connected() {
		t.Fatal("not timed out after the period: MakeConnection did not bind the Timeout")
	}
}
