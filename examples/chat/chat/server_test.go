package chat_test

import (
	"bufio"
	"io"
	"net"
	"strings"
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
