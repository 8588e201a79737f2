package policies_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestTimeoutFactory(t *testing.T) {
	const d = 10 * time.Second
	// Steps: "+5s" advances the clock, "r" receives a byte, "w" writes one,
	// "?1"/"?0" checks that the transport is connected or not.
	tests := []struct {
		name  string
		steps []string
	}{
		{"idle", []string{"+9.999s", "?1", "+1ms", "?0"}},
		{"read resets", []string{"+6s", "r", "+6s", "?1", "+3.9s", "?1", "+100ms", "?0"}},
		{"write resets", []string{"+6s", "w", "+6s", "?1", "+4s", "?0"}},
		{"activity keeps it", []string{"+9s", "r", "+9s", "w", "+9s", "r", "+9s", "?1", "+1s", "?0"}},
		{"long jump", []string{"+1h", "?0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			w, r := connect(t, policies.TimeoutFactory(&testFactory{}, d), tr)
			for i, s := range tt.steps {
				switch {
				case s == "r":
					w.DataReceived([]byte("x"))
				case s == "w":
					_, _ = r.Transport().Write([]byte("y"))
				case s == "?1" || s == "?0":
					if got, want := tr.Connected(), s == "?1"; got != want {
						t.Fatalf("step %d: connected %v, want %v", i, got, want)
					}
				default:
					step, err := time.ParseDuration(s[1:])
					if err != nil {
						t.Fatal(err)
					}
					tr.Clock().Advance(step)
				}
			}
			if tr.Aborted() {
				t.Error("the timeout aborted the connection; want LoseConnection")
			}
		})
	}
}

func TestTimeoutChunks(t *testing.T) {
	input := []byte("slow but steady\r\n")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			tr := transporttest.New()
			w, r := connect(t, policies.TimeoutFactory(&testFactory{}, time.Second), tr)
			for _, piece := range transporttest.Chunks(input, size) {
				tr.Clock().Advance(999 * time.Millisecond)
				w.DataReceived(piece)
			}
			if !tr.Connected() {
				t.Fatal("closed although no gap reached the timeout")
			}
			if got := string(r.data); got != string(input) {
				t.Errorf("wrapped protocol got %q, want %q", got, input)
			}
			tr.Clock().Advance(time.Second)
			if tr.Connected() {
				t.Error("still connected after a second of silence")
			}
		})
	}
}

func TestTimeoutCancelledOnLost(t *testing.T) {
	tr := transporttest.New()
	w, _ := connect(t, policies.TimeoutFactory(&testFactory{}, time.Second), tr)
	if n := len(tr.Clock().Calls()); n != 1 {
		t.Fatalf("%d pending calls after ConnectionMade, want 1 (the timer)", n)
	}
	tr.Clock().Advance(500 * time.Millisecond)
	w.DataReceived([]byte("x"))
	tr.Clock().Advance(600 * time.Millisecond) // the timer fires early and is set again
	w.ConnectionLost(transport.ErrConnectionDone)
	if n := len(tr.Clock().Calls()); n != 0 {
		t.Errorf("%d pending calls after ConnectionLost, want 0", n)
	}
	tr.Clock().Advance(time.Hour)
	if !tr.Connected() {
		t.Error("a cancelled timer closed the transport")
	}
}

func TestTimeoutDisabled(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		tr := transporttest.New()
		connect(t, policies.TimeoutFactory(&testFactory{}, d), tr)
		if n := len(tr.Clock().Calls()); n != 0 {
			t.Errorf("TimeoutFactory(f, %v): %d pending calls, want none", d, n)
		}
	}
}

func ExampleTimeoutFactory() {
	f := factory.ForProtocol(func() protocol.Protocol { return &echo{} })
	timed := policies.TimeoutFactory(f, 30*time.Second)

	tr := transporttest.New()
	protocol.MakeConnection(timed.BuildProtocol(tr.RemoteAddr()), tr)
	tr.Clock().Advance(20 * time.Second)
	fmt.Println("after 20s:", tr.Connected())
	tr.Clock().Advance(10 * time.Second)
	fmt.Println("after 30s:", tr.Connected())
	// Output:
	// after 20s: true
	// after 30s: false
}
