package chat_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// The send-queue tests use a small SendQ, and transports on one loop whose
// clock the test advances: the reactor's WriteBufferFull and
// WriteBufferDrained are called by the test, and what the room schedules
// (pumping a queue, resuming a sender, the end of a hold) runs when the
// clock is advanced.

const (
	testSendQ = 8 << 10 // high watermark 1 KiB, queue 6 KiB, soft limit 1.5 KiB
	testHold  = 250 * time.Millisecond
)

// room is a chat factory with clients on one shared loop.
type room struct {
	f     chat.Factory
	loop  *transporttest.Loop
	clock *transporttest.Clock
}

func newRoom() *room {
	clk := transporttest.NewClock()
	return &room{f: chat.Factory{SendQ: testSendQ, Hold: testHold, MaxLength: 200}, loop: transporttest.NewLoop(clk), clock: clk}
}

// connect makes a client whose peer is 192.0.2.1:port and reads its
// WELCOME.
func (r *room) connect(t *testing.T, port int) client {
	t.Helper()
	tr := transporttest.NewWithLoop(r.loop)
	tr.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: port})
	p := r.f.BuildProtocol(tr.RemoteAddr()).(*chat.Chat)
	protocol.MakeConnection(p, tr)
	c := client{p, tr}
	if got := c.take(); !strings.HasPrefix(got, "WELCOME ") {
		t.Fatalf("client %d got %q, want WELCOME", port, got)
	}
	return c
}

// run runs what is due on the loop now.
func (r *room) run() { r.clock.Advance(0) }

// feeder feeds a client's input in pieces of size bytes, as the reactor
// would: nothing while its transport is paused.
type feeder struct {
	c      client
	pieces [][]byte
}

func newFeeder(c client, data string, size int) *feeder {
	return &feeder{c: c, pieces: transporttest.Chunks([]byte(data), size)}
}

// feed delivers pieces until the transport is paused or none is left, and
// reports whether any is left.
func (f *feeder) feed() bool {
	for len(f.pieces) > 0 && !f.c.tr.Paused() && f.c.tr.Connected() {
		p := f.pieces[0]
		f.pieces = f.pieces[1:]
		f.c.p.DataReceived(p)
	}
	return len(f.pieces) > 0 && f.c.tr.Connected()
}

// numbered returns n lines "<prefix> <i> <padding>" CR LF.
func numbered(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s %03d %s\r\n", prefix, i, strings.Repeat("x", 40))
	}
	return b.String()
}

// checkRelayed checks that out is exactly the lines of in, each prefixed by
// "<nick>: ".
func checkRelayed(t *testing.T, who, out, nick, in string) {
	t.Helper()
	want := strings.ReplaceAll(in, "\r\n", "\r\n"+nick+": ")
	want = nick + ": " + strings.TrimSuffix(want, nick+": ")
	if out != want {
		t.Errorf("%s got %d bytes, want the %d bytes sent, in order:\ngot  %.200q...\nwant %.200q...", who, len(out), len(want), out, want)
	}
}

const closing = "ERROR :Closing Link: %s (SendQ exceeded)\r\n"

// TestSendQExceeded: a recipient that does not read holds the sender up for
// the hold time at most, then its queue fills, and it is closed with the
// ERROR line and ErrSendQExceeded; a reading recipient gets every line.
func TestSendQExceeded(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			r := newRoom()
			a, slow, reader := r.connect(t, 1001), r.connect(t, 1002), r.connect(t, 1003)
			slow.send("NICK slow\r\n", size)
			if got, want := slow.take(), "OK slow\r\n"; got != want {
				t.Fatalf("NICK answered %q, want %q", got, want)
			}
			slow.p.WriteBufferFull() // it reads nothing from now on
			in := numbered("line", 400)
			fa := newFeeder(a, in, size)
			var readerOut strings.Builder
			waited := false
			for step := 0; fa.feed() || a.p.Waiting() || slow.tr.Connected(); step++ {
				waited = waited || a.p.Waiting()
				if step > 200 {
					t.Fatalf("no progress: sender paused %v, waiting %v; slow queue %d, connected %v",
						a.tr.Paused(), a.p.Waiting(), slow.p.Queued(), slow.tr.Connected())
				}
				if q := slow.p.Queued(); q > testSendQ {
					t.Fatalf("slow client's queue %d bytes, over the SendQ %d", q, testSendQ)
				}
				r.clock.Advance(testHold / 4)
				readerOut.WriteString(reader.take())
			}
			r.run()
			readerOut.WriteString(reader.take())
			if !waited {
				t.Error("the sender never waited: the slow client did not hold the room up for its hold time")
			}

			out := slow.take()
			if want := fmt.Sprintf(closing, "slow"); !strings.HasSuffix(out, want) {
				t.Errorf("slow client's output ends %q, want the closing line %q", out[max(0, len(out)-80):], want)
			}
			if strings.Count(out, "ERROR") != 1 {
				t.Errorf("slow client got %d ERROR lines, want 1", strings.Count(out, "ERROR"))
			}
			if err := slow.tr.CloseError(); !errors.Is(err, chat.ErrSendQExceeded) {
				t.Errorf("slow client closed with %v, want ErrSendQExceeded", err)
			}
			if got := slow.p.Queued(); got != 0 {
				t.Errorf("slow client's queue holds %d bytes after the close, want 0", got)
			}
			if got, want := r.f.Room().Len(), 2; got != want {
				t.Errorf("room has %d members, want %d", got, want)
			}
			checkRelayed(t, "reader", readerOut.String(), "192.0.2.1:1001", in)
			if a.tr.Paused() || a.p.Waiting() || !a.tr.Connected() {
				t.Errorf("sender paused %v, waiting %v, connected %v at the end; want reading", a.tr.Paused(), a.p.Waiting(), a.tr.Connected())
			}
			// The grace period ends with an abort, which does nothing more
			// to a transport that is closed.
			r.clock.Advance(chat.SendQGrace)
		})
	}
}

// TestSlowRecipientPausesSenders: a recipient over its soft limit that
// makes progress pauses the sender (whose unsplit input is kept) until it
// drained; then the sender resumes and every line arrives, in order.
func TestSlowRecipientPausesSenders(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			r := newRoom()
			a, slow := r.connect(t, 1001), r.connect(t, 1002)
			slow.p.WriteBufferFull()
			in := numbered("line", 100) + "NICK ann\r\n" + "after nick\r\n"
			fa := newFeeder(a, in, size)
			fa.feed()
			r.run()
			if !r.f.Room().Congested() || !a.p.Waiting() || !a.tr.Paused() {
				t.Fatalf("after %d queued bytes: room congested %v, sender waiting %v, paused %v; want all true",
					slow.p.Queued(), r.f.Room().Congested(), a.p.Waiting(), a.tr.Paused())
			}
			if q := slow.p.Queued(); q > testSendQ/4 {
				t.Errorf("slow client's queue %d bytes, want the sender stopped near the soft limit (1.5 KiB)", q)
			}
			if got := a.take(); got != "" {
				t.Errorf("sender got %q while waiting (its NICK ran early?)", got)
			}
			// The hold does not end while the client makes progress.
			var out strings.Builder
			for step := 0; fa.feed() || a.p.Waiting(); step++ {
				if step > 200 {
					t.Fatalf("no progress: sender waiting %v, queue %d", a.p.Waiting(), slow.p.Queued())
				}
				r.clock.Advance(testHold / 5)
				slow.p.WriteBufferDrained() // it read what it had
				r.run()
				out.WriteString(slow.take())
				slow.p.WriteBufferFull()
			}
			slow.p.WriteBufferDrained()
			for range 20 {
				r.run()
			}
			out.WriteString(slow.take())
			if !slow.tr.Connected() {
				t.Fatalf("slow client closed (%v), want it kept: it kept reading", slow.tr.CloseError())
			}
			want := strings.TrimSuffix(in, "NICK ann\r\nafter nick\r\n")
			got := out.String()
			tail := "ann: after nick\r\n"
			if !strings.HasSuffix(got, tail) {
				t.Errorf("slow client's output ends %q, want %q", got[max(0, len(got)-40):], tail)
			}
			checkRelayed(t, "slow client", strings.TrimSuffix(got, tail), "192.0.2.1:1001", want)
			if got, want := a.take(), "OK ann\r\n"; got != want {
				t.Errorf("sender got %q, want %q", got, want)
			}
			if a.tr.Paused() || r.f.Room().Congested() {
				t.Errorf("sender paused %v, room congested %v at the end; want neither", a.tr.Paused(), r.f.Room().Congested())
			}
		})
	}
}

// TestEveryoneFloods: every client floods and none reads; each is a sender
// and a slow recipient. No one deadlocks: each holds the room for the hold
// time at most, then is disconnected at its SendQ, and the queues never pass
// it.
func TestEveryoneFloods(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			r := newRoom()
			const n = 5
			var cs []client
			var fs []*feeder
			for i := range n {
				c := r.connect(t, 1001+i)
				c.p.WriteBufferFull()
				cs = append(cs, c)
				fs = append(fs, newFeeder(c, numbered(fmt.Sprint("from", i), 400), size))
			}
			congested := false
			for step := 0; ; step++ {
				congested = congested || r.f.Room().Congested()
				busy := false
				for i, f := range fs {
					if f.feed() || (cs[i].p.Waiting() && cs[i].tr.Connected()) {
						busy = true
					}
					if q := cs[i].p.Queued(); q > testSendQ {
						t.Fatalf("client %d queue %d bytes, over the SendQ", i, q)
					}
				}
				if !busy || r.f.Room().Len() == 0 {
					break
				}
				if step > 400 {
					t.Fatalf("no progress after %d steps: room of %d, congested %v", step, r.f.Room().Len(), r.f.Room().Congested())
				}
				r.clock.Advance(testHold / 4)
			}
			if !congested {
				t.Error("the room was never congested")
			}
			r.clock.Advance(chat.SendQGrace)
			// At most one client can be left: a room of one has no one to
			// send to.
			if got := r.f.Room().Len(); got > 1 {
				t.Errorf("room has %d members after the flood, want at most 1", got)
			}
			closed := 0
			for i, c := range cs {
				if c.tr.Connected() {
					continue
				}
				closed++
				if err := c.tr.CloseError(); !errors.Is(err, chat.ErrSendQExceeded) {
					t.Errorf("client %d closed with %v, want ErrSendQExceeded", i, err)
				}
				if out := c.take(); !strings.HasSuffix(out, fmt.Sprintf(closing, c.tr.RemoteAddr())) {
					t.Errorf("client %d output ends %q, want the closing line", i, out[max(0, len(out)-80):])
				}
			}
			if closed < n-1 {
				t.Errorf("%d of %d clients closed, want at least %d", closed, n, n-1)
			}
		})
	}
}

// TestSendQReason checks that the reason a SendQ'd client's ConnectionLost
// gets (from the transport) matches ErrSendQExceeded and
// transport.ErrConnectionAborted, as CloseWithError promises.
func TestSendQReason(t *testing.T) {
	reason := transport.Aborted(chat.ErrSendQExceeded)
	if !errors.Is(reason, chat.ErrSendQExceeded) || !errors.Is(reason, transport.ErrConnectionAborted) {
		t.Errorf("transport.Aborted(ErrSendQExceeded) = %v, matches neither", reason)
	}
	if got, want := chat.ErrSendQExceeded.Error(), "chat: send queue exceeded"; got != want {
		t.Errorf("ErrSendQExceeded = %q, want %q", got, want)
	}
}

func TestSendQFlags(t *testing.T) {
	tests := []struct {
		args    []string
		sendq   int
		hold    time.Duration
		wantErr error
	}{
		{nil, chat.DefaultSendQ, chat.DefaultHold, nil},
		{[]string{"--sendq", "256KiB"}, 256 << 10, chat.DefaultHold, nil},
		{[]string{"--sendq", "2M"}, 2 << 20, chat.DefaultHold, nil},
		{[]string{"--sendq", "100000", "--sendq-hold", "1s"}, 100000, time.Second, nil},
		{[]string{"--sendq", "0"}, 0, chat.DefaultHold, nil},
		{[]string{"--sendq", "-1"}, -1, chat.DefaultHold, chat.ErrSendQ},
		{[]string{"--sendq", "16KiB"}, 16 << 10, chat.DefaultHold, chat.ErrSendQ}, // under a 16 KiB line
		{[]string{"--sendq", "16KiB", "--max-length", "1000"}, 16 << 10, chat.DefaultHold, nil},
		{[]string{"--sendq-hold", "-1s"}, chat.DefaultSendQ, -time.Second, chat.ErrSendQ},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("chat", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f chat.Factory
			f.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if f.SendQ != tt.sendq || f.Hold != tt.hold {
				t.Errorf("SendQ, Hold = %d, %v; want %d, %v", f.SendQ, f.Hold, tt.sendq, tt.hold)
			}
			if err := f.Check(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Check() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	for _, bad := range []string{"lots", "1GiB", "1.5MiB", "KiB"} {
		fs := flag.NewFlagSet("chat", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f chat.Factory
		f.RegisterFlags(fs)
		if err := fs.Parse([]string{"--sendq", bad}); err == nil {
			t.Errorf("--sendq %s parsed as %d, want an error", bad, f.SendQ)
		}
	}
}
