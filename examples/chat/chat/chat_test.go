package chat_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// client is one chat connection on an in-memory transport.
type client struct {
	p  *chat.Chat
	tr *transporttest.Transport
}

// connect makes a Chat of f on a transport whose peer is 192.0.2.1:port.
func connect(t testing.TB, f *chat.Factory, port int) client {
	t.Helper()
	tr := transporttest.New()
	tr.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: port})
	p, ok := f.BuildProtocol(tr.RemoteAddr()).(*chat.Chat)
	if !ok {
		t.Fatalf("BuildProtocol returned %T, want *chat.Chat", p)
	}
	protocol.MakeConnection(p, tr)
	return client{p, tr}
}

// send feeds s to the client's protocol in pieces of size bytes.
func (c client) send(s string, size int) {
	for _, piece := range transporttest.Chunks([]byte(s), size) {
		c.p.DataReceived(piece)
	}
}

// take returns what the server wrote to the client since the last take.
func (c client) take() string {
	v := c.tr.Value()
	c.tr.Clear()
	return string(v)
}

// lose ends the connection as the reactor would after the peer hung up.
func (c client) lose() {
	c.tr.LoseConnection()
	c.p.ConnectionLost(transport.ErrConnectionDone)
}

func TestWelcome(t *testing.T) {
	var f chat.Factory
	var clients []client
	for i := 1; i <= 3; i++ {
		c := connect(t, &f, 1000+i)
		clients = append(clients, c)
		if got, want := c.take(), fmt.Sprintf("WELCOME %d users online\r\n", i); got != want {
			t.Errorf("client %d got %q, want %q", i, got, want)
		}
	}
	clients[1].lose()
	if got, want := f.Room().Len(), 2; got != want {
		t.Errorf("Room().Len() after a client left = %d, want %d", got, want)
	}
	c := connect(t, &f, 1004)
	if got, want := c.take(), "WELCOME 3 users online\r\n"; got != want {
		t.Errorf("after a client left, a new client got %q, want %q", got, want)
	}
	for i, c := range []client{clients[0], clients[2]} {
		if got := c.take(); got != "" {
			t.Errorf("client %d got %q when others joined and left, want nothing", i, got)
		}
	}
}

func TestCommands(t *testing.T) {
	long := strings.Repeat("x", chat.MaxNickLength)
	tests := []struct {
		name      string
		maxLength int
		in        string
		self      string // written back to the sender
		other     string // written to the other client
		closed    bool   // the sender's connection closed
		tooLong   bool   // Err() is ErrLineTooLong
	}{
		{name: "message", in: "hello, world\r\n",
			other: "192.0.2.1:1001: hello, world\r\n"},
		{name: "messages", in: "one\r\ntwo\r\n",
			other: "192.0.2.1:1001: one\r\n192.0.2.1:1001: two\r\n"},
		{name: "incomplete line", in: "hello", other: ""},
		{name: "empty line ignored", in: "\r\n\r\nhi\r\n",
			other: "192.0.2.1:1001: hi\r\n"},
		{name: "nick", in: "NICK alice\r\nhi\r\n", self: "OK alice\r\n",
			other: "alice: hi\r\n"},
		{name: "nick twice", in: "NICK alice\r\nNICK bob\r\nhi\r\n",
			self: "OK alice\r\nOK bob\r\n", other: "bob: hi\r\n"},
		{name: "nick trimmed", in: "NICK  \tbob \r\n", self: "OK bob\r\n"},
		{name: "nick longest", in: "NICK " + long + "\r\n", self: "OK " + long + "\r\n"},
		{name: "nick utf-8", in: "NICK zoë\r\n", self: "OK zoë\r\n"},
		{name: "nick empty", in: "NICK\r\n", self: "ERR usage: NICK <name>\r\n"},
		{name: "nick spaces", in: "NICK   \r\n", self: "ERR usage: NICK <name>\r\n"},
		{name: "nick too long", in: "NICK " + long + "y\r\n", self: "ERR invalid nickname\r\n"},
		{name: "nick colon", in: "NICK a:b\r\n", self: "ERR invalid nickname\r\n"},
		{name: "nick space", in: "NICK a b\r\n", self: "ERR invalid nickname\r\n"},
		{name: "nick control", in: "NICK a\x01\r\n", self: "ERR invalid nickname\r\n"},
		{name: "nick del", in: "NICK a\x7f\r\n", self: "ERR invalid nickname\r\n"},
		{name: "nick kept after error", in: "NICK alice\r\nNICK a:b\r\nhi\r\n",
			self: "OK alice\r\nERR invalid nickname\r\n", other: "alice: hi\r\n"},
		{name: "lower-case nick is a message", in: "nick bob\r\n",
			other: "192.0.2.1:1001: nick bob\r\n"},
		{name: "NICKNAME is a message", in: "NICKNAME bob\r\n",
			other: "192.0.2.1:1001: NICKNAME bob\r\n"},
		{name: "bare LF", in: "hi\nalice: forged\r\n", self: "ERR invalid line\r\n"},
		{name: "bare CR", in: "hi\r\r\n", self: "ERR invalid line\r\n"},
		{name: "quit", in: "/quit\r\nafter\r\n", self: "BYE\r\n", closed: true},
		{name: "quit after a message", in: "bye all\r\n/quit\r\n", self: "BYE\r\n",
			other: "192.0.2.1:1001: bye all\r\n", closed: true},
		{name: "QUIT is a message", in: "/QUIT\r\n", other: "192.0.2.1:1001: /QUIT\r\n"},
		{name: "quit with space is a message", in: "/quit \r\n", other: "192.0.2.1:1001: /quit \r\n"},
		{name: "longest line", maxLength: 10, in: "0123456789\r\n",
			other: "192.0.2.1:1001: 0123456789\r\n"},
		{name: "line too long", maxLength: 10, in: "01234567890\r\nafter\r\n",
			self: "ERR line too long\r\n", closed: true, tooLong: true},
		{name: "unfinished line too long", maxLength: 10, in: "0123456789012",
			self: "ERR line too long\r\n", closed: true, tooLong: true},
		{name: "too long after a message", maxLength: 10, in: "short\r\n0123456789012345\r\n",
			self: "ERR line too long\r\n", other: "192.0.2.1:1001: short\r\n", closed: true, tooLong: true},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				f := chat.Factory{MaxLength: tt.maxLength}
				sender := connect(t, &f, 1001)
				other := connect(t, &f, 1002)
				sender.take()
				other.take()

				sender.send(tt.in, size)
				if got := sender.take(); got != tt.self {
					t.Errorf("sender got %q, want %q", got, tt.self)
				}
				if got := other.take(); got != tt.other {
					t.Errorf("other client got %q, want %q", got, tt.other)
				}
				if got := !sender.tr.Connected(); got != tt.closed {
					t.Errorf("sender closed = %v, want %v", got, tt.closed)
				}
				if sender.tr.Aborted() {
					t.Error("sender's connection aborted, want a clean close")
				}
				if got := errors.Is(sender.p.Err(), protocol.ErrLineTooLong); got != tt.tooLong {
					t.Errorf("Err() = %v, want ErrLineTooLong: %v", sender.p.Err(), tt.tooLong)
				}
				wantLen := 2
				if tt.closed {
					wantLen = 1 // a client that quits leaves at once
				}
				if got := f.Room().Len(); got != wantLen {
					t.Errorf("Room().Len() = %d, want %d", got, wantLen)
				}
				if tt.closed {
					sender.p.ConnectionLost(transport.ErrConnectionDone)
				}
			})
		}
	}
}

// TestBroadcastToOthers checks that a message reaches every other client,
// and not its sender, whatever the piece size.
func TestBroadcastToOthers(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			var f chat.Factory
			a, b, c := connect(t, &f, 1001), connect(t, &f, 1002), connect(t, &f, 1003)
			a.take()
			b.take()
			c.take()

			a.send("NICK alice\r\nhello\r\n", size)
			b.send("NICK bob\r\nhi alice\r\n", size)
			c.send("yo\r\n", size)

			for _, tc := range []struct {
				name string
				c    client
				want string
			}{
				{"alice", a, "OK alice\r\nbob: hi alice\r\n192.0.2.1:1003: yo\r\n"},
				{"bob", b, "alice: hello\r\nOK bob\r\n192.0.2.1:1003: yo\r\n"},
				{"third", c, "alice: hello\r\nbob: hi alice\r\n"},
			} {
				if got := tc.c.take(); got != tc.want {
					t.Errorf("%s got %q, want %q", tc.name, got, tc.want)
				}
			}
		})
	}
}

func TestNickInUse(t *testing.T) {
	var f chat.Factory
	a, b := connect(t, &f, 1001), connect(t, &f, 1002)
	a.take()
	b.take()
	steps := []struct {
		who  string
		c    client
		in   string
		want string
	}{
		{"a", a, "NICK alice\r\n", "OK alice\r\n"},
		{"b", b, "NICK alice\r\n", "ERR nickname in use\r\n"},
		{"a", a, "NICK alice\r\n", "OK alice\r\n"}, // its own name again
		{"a", a, "NICK al\r\n", "OK al\r\n"},       // frees alice
		{"b", b, "NICK alice\r\n", "OK alice\r\n"},
		{"a", a, "NICK alice\r\n", "ERR nickname in use\r\n"},
		{"b", b, "NICK Alice\r\n", "OK Alice\r\n"}, // case counts; frees alice
		{"a", a, "NICK alice\r\n", "OK alice\r\n"},
	}
	for i, s := range steps {
		s.c.send(s.in, 0)
		if got := s.c.take(); got != s.want {
			t.Errorf("step %d: %s sent %q, got %q, want %q", i, s.who, s.in, got, s.want)
		}
	}
	// A client that leaves frees its nickname.
	a.lose()
	c := connect(t, &f, 1003)
	c.take()
	c.send("NICK alice\r\n", 0)
	if got, want := c.take(), "OK alice\r\n"; got != want {
		t.Errorf("after alice left, NICK alice got %q, want %q", got, want)
	}
}

func TestNick(t *testing.T) {
	var f chat.Factory
	c := connect(t, &f, 4242)
	if got, want := c.p.Nick(), "192.0.2.1:4242"; got != want {
		t.Errorf("Nick() = %q, want the peer address %q", got, want)
	}
	c.send("NICK carol\r\n", 0)
	if got, want := c.p.Nick(), "carol"; got != want {
		t.Errorf("Nick() after NICK = %q, want %q", got, want)
	}
}

// TestNickNotKept checks the nickname is copied out of the received data,
// which the loop reuses once DataReceived returns.
func TestNickNotKept(t *testing.T) {
	var f chat.Factory
	a, b := connect(t, &f, 1001), connect(t, &f, 1002)
	b.take()
	buf := []byte("NICK alice\r\n")
	a.p.DataReceived(buf)
	copy(buf, "XXXXXXXXXX")
	a.send("hi\r\n", 0)
	if got, want := b.take(), "alice: hi\r\n"; got != want {
		t.Errorf("other client got %q, want %q", got, want)
	}
}

// TestBroadcastToClosing checks that a member whose connection is closing
// does not stop a message from reaching the others.
func TestBroadcastToClosing(t *testing.T) {
	var f chat.Factory
	a, b, c := connect(t, &f, 1001), connect(t, &f, 1002), connect(t, &f, 1003)
	b.take()
	c.take()
	b.tr.LoseConnection() // closing, ConnectionLost not yet called
	a.send("NICK a\r\nstill here\r\n", 0)
	if got := b.take(); got != "" {
		t.Errorf("closing client got %q, want nothing", got)
	}
	if got, want := c.take(), "a: still here\r\n"; got != want {
		t.Errorf("open client got %q, want %q", got, want)
	}
}

func TestLostTwice(t *testing.T) {
	var f chat.Factory
	a := connect(t, &f, 1001)
	connect(t, &f, 1002)
	a.send("/quit\r\n", 0)
	a.p.ConnectionLost(transport.ErrConnectionDone)
	if got, want := f.Room().Len(), 1; got != want {
		t.Errorf("Room().Len() = %d, want %d", got, want)
	}
}

// TestRoomConcurrent runs clients on several goroutines at once, as
// connections on several loops are: each goroutine is one client's loop.
// Run it with -race.
func TestRoomConcurrent(t *testing.T) {
	const (
		listeners = 3
		senders   = 8
		messages  = 50
	)
	var f chat.Factory
	var ls []client
	for i := range listeners {
		c := connect(t, &f, 2000+i)
		c.send(fmt.Sprintf("NICK listener%d\r\n", i), 0)
		ls = append(ls, c)
	}
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			c := connect(t, &f, 3000+i)
			c.send(fmt.Sprintf("NICK sender%d\r\n", i), 1)
			for j := range messages {
				c.send(fmt.Sprintf("message %d\r\n", j), 3)
			}
			c.send("/quit\r\n", 0)
			c.p.ConnectionLost(transport.ErrConnectionDone)
		})
	}
	wg.Wait()
	if got, want := f.Room().Len(), listeners; got != want {
		t.Errorf("Room().Len() = %d, want %d", got, want)
	}
	for i, l := range ls {
		out := l.take()
		for s := range senders {
			prefix := fmt.Sprintf("sender%d: message ", s)
			if got := strings.Count(out, prefix); got != messages {
				t.Errorf("listener %d got %d messages from sender %d, want %d", i, got, s, messages)
			}
		}
	}
}

func TestFactoryFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    int
		wantErr error
	}{
		{nil, protocol.DefaultMaxLineLength, nil},
		{[]string{"--max-length", "80"}, 80, nil},
		{[]string{"--max-length=0"}, 0, nil},
		{[]string{"--max-length", "-1"}, -1, chat.ErrMaxLength},
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
			if f.MaxLength != tt.want {
				t.Errorf("MaxLength = %d, want %d", f.MaxLength, tt.want)
			}
			if err := f.Check(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Check() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestFactoryMaxLength checks that the factory's MaxLength reaches each
// protocol, and that 0 means the line receiver's default.
func TestFactoryMaxLength(t *testing.T) {
	for _, tt := range []struct{ maxLength, want int }{{0, protocol.DefaultMaxLineLength}, {5, 5}} {
		f := chat.Factory{MaxLength: tt.maxLength}
		a, b := connect(t, &f, 1001), connect(t, &f, 1002)
		b.take()
		a.take()
		a.send(strings.Repeat("x", tt.want)+"\r\n", 0)
		if got, want := b.take(), "192.0.2.1:1001: "+strings.Repeat("x", tt.want)+"\r\n"; got != want {
			t.Errorf("MaxLength %d: a line of %d bytes reached the other client as %q, want it whole", tt.maxLength, tt.want, got)
		}
		a.send(strings.Repeat("x", tt.want+1)+"\r\n", 0)
		if got, want := a.take(), "ERR line too long\r\n"; got != want {
			t.Errorf("MaxLength %d: a line of %d bytes got %q, want %q", tt.maxLength, tt.want+1, got, want)
		}
	}
}

func Example() {
	var f chat.Factory
	alice, bob := transporttest.New(), transporttest.New()
	a := f.BuildProtocol(alice.RemoteAddr()).(*chat.Chat)
	b := f.BuildProtocol(bob.RemoteAddr()).(*chat.Chat)
	protocol.MakeConnection(a, alice)
	protocol.MakeConnection(b, bob)
	a.DataReceived([]byte("NICK alice\r\nhello, bob\r\n"))
	fmt.Printf("alice got %q\n", alice.Value())
	fmt.Printf("bob got %q\n", bob.Value())
	// Output:
	// alice got "WELCOME 1 users online\r\nOK alice\r\n"
	// bob got "WELCOME 2 users online\r\nalice: hello, bob\r\n"
}
