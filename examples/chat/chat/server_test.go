package chat_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// The integration tests run the chat on a real reactor with two loops, on
// 127.0.0.1:0, and talk to it with plain TCP clients.

// server runs f on a reactor with two loops until the test ends, and returns
// the address it listens on.
func server(t *testing.T, f factory.Factory) string {
	t.Helper()
	return reactortest.Serve(t, f, reactor.WithLoops(2)).Addr().String()
}

// lineConn is a chat client.
type lineConn struct {
	net.Conn
	r *bufio.Reader
}

// dialChat connects to addr and reads the WELCOME line, which it returns.
func dialChat(t *testing.T, addr string) (*lineConn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	l := &lineConn{c, bufio.NewReader(c)}
	return l, l.readLine(t)
}

// send writes s as it is.
func (l *lineConn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(l, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// readLine reads one line, checks it ends with CR LF, and returns it
// without.
func (l *lineConn) readLine(t *testing.T) string {
	t.Helper()
	s, err := l.r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a line: %v (read %q)", err, s)
	}
	line, ok := strings.CutSuffix(s, "\r\n")
	if !ok {
		t.Fatalf("line %q does not end with CR LF", s)
	}
	return line
}

// expect reads one line and checks it is want.
func (l *lineConn) expect(t *testing.T, want string) {
	t.Helper()
	if got := l.readLine(t); got != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// expectEOF checks the server closed the connection cleanly, with nothing
// more to read.
func (l *lineConn) expectEOF(t *testing.T) {
	t.Helper()
	if s, err := l.r.ReadString('\n'); s != "" || err != io.EOF {
		t.Fatalf("read %q, %v; want the end of the stream", s, err)
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServerWelcome(t *testing.T) {
	var f chat.Factory
	addr := server(t, &f)
	for _, want := range []string{"WELCOME 1 users online", "WELCOME 2 users online", "WELCOME 3 users online"} {
		if _, got := dialChat(t, addr); got != want {
			t.Errorf("welcome %q, want %q", got, want)
		}
	}
}

func TestServerChat(t *testing.T) {
	var f chat.Factory
	addr := server(t, &f)
	a, _ := dialChat(t, addr)
	b, _ := dialChat(t, addr)
	c, _ := dialChat(t, addr)

	a.send(t, "NICK alice\r\n")
	a.expect(t, "OK alice")
	b.send(t, "NICK bob\r\n")
	b.expect(t, "OK bob")

	// A message reaches the others and not its sender: alice's next line
	// is the answer to her next command.
	a.send(t, "hello everyone\r\nNICK alice\r\n")
	a.expect(t, "OK alice")
	b.expect(t, "alice: hello everyone")
	c.expect(t, "alice: hello everyone")

	// A client without a nickname is known by its address.
	c.send(t, "hi\r\n")
	cNick := c.LocalAddr().String()
	a.expect(t, cNick+": hi")
	b.expect(t, cNick+": hi")

	// Commands answer their sender only.
	b.send(t, "NICK alice\r\nNICK\r\nNICK a:b\r\n")
	b.expect(t, "ERR nickname in use")
	b.expect(t, "ERR usage: NICK <name>")
	b.expect(t, "ERR invalid nickname")
	b.send(t, "bye\r\n")
	a.expect(t, "bob: bye")
	c.expect(t, "bob: bye")
}

func TestServerQuit(t *testing.T) {
	var f chat.Factory
	addr := server(t, &f)
	a, _ := dialChat(t, addr)
	b, _ := dialChat(t, addr)

	a.send(t, "/quit\r\n")
	a.expect(t, "BYE")
	a.expectEOF(t)

	// The client that quit left at once: it is not counted, and gets
	// nothing.
	if _, got := dialChat(t, addr); got != "WELCOME 2 users online" {
		t.Errorf("welcome after a quit %q, want %q", got, "WELCOME 2 users online")
	}
	b.send(t, "NICK bob\r\nstill here\r\n")
	b.expect(t, "OK bob")
}

func TestServerLineTooLong(t *testing.T) {
	f := chat.Factory{MaxLength: 16}
	addr := server(t, &f)
	a, _ := dialChat(t, addr)
	b, _ := dialChat(t, addr)

	a.send(t, "NICK alice\r\nshort\r\n"+strings.Repeat("x", 40)+"\r\n")
	a.expect(t, "OK alice")
	a.expect(t, "ERR line too long")
	a.expectEOF(t)
	b.expect(t, "alice: short")
	waitFor(t, "alice to leave the room", func() bool { return f.Room().Len() == 1 })
}

func TestServerHangUp(t *testing.T) {
	var f chat.Factory
	addr := server(t, &f)
	a, _ := dialChat(t, addr)
	b, _ := dialChat(t, addr)
	a.send(t, "NICK alice\r\n")
	a.expect(t, "OK alice")

	b.Close()
	waitFor(t, "the client that hung up to leave", func() bool { return f.Room().Len() == 1 })
	if _, got := dialChat(t, addr); got != "WELCOME 2 users online" {
		t.Errorf("welcome after a hang-up %q, want %q", got, "WELCOME 2 users online")
	}
	// alice's nickname is still hers.
	c, _ := dialChat(t, addr)
	c.send(t, "NICK alice\r\n")
	c.expect(t, "ERR nickname in use")
}

// TestServerSendQ runs a room on two loops where one client never reads:
// it is closed with the ERROR line once its send queue passes the SendQ
// (the kernel's socket buffers fill first), while a reading client gets
// every line, in order, and the talker is never cut off. The hold is long
// (the slow client holds the room up for it once), so that a reader slowed
// down by the race detector on a busy machine is still waited for.
func TestServerSendQ(t *testing.T) {
	f := &chat.Factory{SendQ: 64 << 10, MaxLength: 1024, Hold: 3 * time.Second}
	addr := server(t, f)
	talker, _ := dialChat(t, addr)
	slow, _ := dialChat(t, addr)
	reader, _ := dialChat(t, addr)
	slow.send(t, "NICK slow\r\n")
	talker.send(t, "NICK talker\r\n")
	talker.expect(t, "OK talker")
	waitFor(t, "three members", func() bool { return f.Room().Len() == 3 })

	// The reader reads every line while the talker talks.
	if err := reader.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	failed := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			s, err := reader.r.ReadString('\n')
			if err == nil {
				if want := fmt.Sprintf("talker: %06d %s\r\n", n, strings.Repeat("y", 900)); s != want {
					err = fmt.Errorf("line %d is %.40q, want %.40q", n, s, want)
				}
			}
			if err != nil {
				failed <- err
				return
			}
			got.Add(1)
		}
	}()
	sent := 0
	for f.Room().Len() == 3 {
		if sent > 200000 { // 180 MiB
			t.Fatalf("the slow client is still in the room after %d lines", sent)
		}
		var b strings.Builder
		for range 64 {
			fmt.Fprintf(&b, "%06d %s\r\n", sent, strings.Repeat("y", 900))
			sent++
		}
		if err := talker.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		talker.send(t, b.String())
	}
	// The slow client reads now: the lines it was sent, then the reason.
	if err := slow.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var last string
	for {
		s, err := slow.r.ReadString('\n')
		if err != nil {
			if err != io.EOF {
				t.Fatalf("slow client: %v after %q", err, last)
			}
			break
		}
		last = s
	}
	if want := "ERROR :Closing Link: slow (SendQ exceeded)\r\n"; last != want {
		t.Errorf("slow client's last line is %q, want %q", last, want)
	}
	waitFor(t, "the reader to get every line", func() bool {
		select {
		case err := <-failed:
			t.Fatalf("reader, after %d lines of %d: %v", got.Load(), sent, err)
		default:
		}
		return got.Load() == int64(sent)
	})
	talker.send(t, "/quit\r\n")
	talker.expect(t, "BYE")
}
