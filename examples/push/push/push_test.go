package push_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/push/push"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// lines checks that out is timestamp lines and returns them.
func lines(t *testing.T, out []byte) []int64 {
	t.Helper()
	var ts []int64
	for _, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		n, err := strconv.ParseInt(string(l), 10, 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ts = append(ts, n)
	}
	return ts
}

func TestTicksReachEveryConnection(t *testing.T) {
	loop := transporttest.NewLoop(transporttest.NewClock())
	f := &push.Factory{Interval: 10 * time.Millisecond}
	var trs []*transporttest.Transport
	for range 3 {
		tr := transporttest.NewWithLoop(loop)
		protocol.MakeConnection(f.BuildProtocol(nil), tr)
		trs = append(trs, tr)
	}
	loop.Clock().Pump(10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond)
	for i, tr := range trs {
		ts := lines(t, tr.Value())
		if len(ts) != 3 || ts[1]-ts[0] != int64(10*time.Millisecond) {
			t.Fatalf("connection %d got %v, want 3 ticks 10ms apart", i, ts)
		}
	}
	if f.Pushed() != 9 {
		t.Fatalf("pushed %d, want 9", f.Pushed())
	}
}

func TestFullConnectionSkipped(t *testing.T) {
	loop := transporttest.NewLoop(transporttest.NewClock())
	f := &push.Factory{Interval: time.Second}
	slow, fast := transporttest.NewWithLoop(loop), transporttest.NewWithLoop(loop)
	ps := f.BuildProtocol(nil).(*push.Pusher)
	protocol.MakeConnection(ps, slow)
	protocol.MakeConnection(f.BuildProtocol(nil), fast)
	ps.WriteBufferFull()
	loop.Clock().Pump(time.Second, time.Second)
	if got := len(lines(t, slow.Value())); got != 0 {
		t.Fatalf("a full connection got %d lines", got)
	}
	if got := len(lines(t, fast.Value())); got != 2 {
		t.Fatalf("the other got %d lines, want 2", got)
	}
	ps.WriteBufferDrained()
	loop.Clock().Advance(time.Second)
	if got := len(lines(t, slow.Value())); got != 1 {
		t.Fatalf("after draining: %d lines, want 1", got)
	}
	if f.Skipped() != 2 {
		t.Fatalf("skipped %d, want 2", f.Skipped())
	}
}

func TestTickerStopsWithoutConnections(t *testing.T) {
	loop := transporttest.NewLoop(transporttest.NewClock())
	f := &push.Factory{Interval: time.Second}
	p := f.BuildProtocol(nil)
	tr := transporttest.NewWithLoop(loop)
	protocol.MakeConnection(p, tr)
	loop.Clock().Advance(time.Second)
	p.ConnectionLost(nil)
	loop.Clock().Advance(time.Second)
	if n := len(loop.Clock().Calls()); n != 0 {
		t.Fatalf("%d calls still scheduled", n)
	}
	tr2 := transporttest.NewWithLoop(loop)
	protocol.MakeConnection(f.BuildProtocol(nil), tr2)
	loop.Clock().Advance(time.Second)
	if got := len(lines(t, tr2.Value())); got != 1 {
		t.Fatalf("a new connection got %d lines, want 1", got)
	}
}

func TestEcho(t *testing.T) {
	tr := transporttest.New()
	p := (&push.Factory{}).BuildProtocol(nil)
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("hello"))
	if string(tr.Value()) != "hello" {
		t.Fatalf("echoed %q", tr.Value())
	}
}
