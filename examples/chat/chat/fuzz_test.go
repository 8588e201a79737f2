package chat_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/chat/chat"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// FuzzChat feeds arbitrary input to one client while another listens, and
// checks that every line the server writes ends with CR LF and has one of the
// documented forms, that the listener only gets "<nick>: <line>" messages,
// and that the output does not depend on how the input is split.
func FuzzChat(f *testing.F) {
	f.Add([]byte("hello\r\nNICK alice\r\nhi\r\n/quit\r\n"))
	f.Add([]byte("NICK\r\nNICK a:b\r\nNICK  bob \r\n\r\n"))
	f.Add([]byte("hi\nforged\r\nx\r\r\n"))
	f.Add([]byte(strings.Repeat("x", 40) + "\r\nafter\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var first [2]string
		for i, size := range transporttest.ChunkSizes {
			fac := chat.Factory{MaxLength: 32}
			sender, other := connect(t, &fac, 1001), connect(t, &fac, 1002)
			sender.take()
			other.take()
			sender.send(string(in), size)
			self, others := sender.take(), other.take()
			checkLines(t, "sender", self, func(line string) bool {
				return line == "BYE" || strings.HasPrefix(line, "OK ") || strings.HasPrefix(line, "ERR ")
			})
			checkLines(t, "other client", others, func(line string) bool {
				nick, _, ok := strings.Cut(line, ": ")
				return ok && (nick == "192.0.2.1:1001" || !strings.ContainsAny(nick, ": \t"))
			})
			if i == 0 {
				first = [2]string{self, others}
			} else if got := [2]string{self, others}; got != first {
				t.Fatalf("chunk size %d wrote %q, but chunk size %d wrote %q", size, got, transporttest.ChunkSizes[0], first)
			}
		}
	})
}

// checkLines checks out is a series of CR LF-terminated lines, each with no
// other CR or LF, each accepted by ok.
func checkLines(t *testing.T, who, out string, ok func(string) bool) {
	t.Helper()
	if out == "" {
		return
	}
	body, found := strings.CutSuffix(out, "\r\n")
	if !found {
		t.Fatalf("%s got %q, not ending with CR LF", who, out)
	}
	for _, line := range strings.Split(body, "\r\n") {
		if bytes.ContainsAny([]byte(line), "\r\n") || !ok(line) {
			t.Fatalf("%s got the line %q, which the protocol does not send", who, line)
		}
	}
}
