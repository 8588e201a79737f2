package httpplain_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

const get = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n"

// dateRE matches the Date header's value, which changes with the clock.
var dateRE = regexp.MustCompile(`Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n`)

// answer is the expected answer with the Date line left out.
func answer(status, body string, extra string, withBody bool) string {
	s := "HTTP/1.1 " + status + "\r\nServer: whirl\r\nContent-Type: text/plain\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n", len(body)) + extra + "\r\n"
	if withBody {
		s += body
	}
	return s
}

var (
	ok      = answer("200 OK", httpplain.Body, "", true)
	okClose = answer("200 OK", httpplain.Body, "Connection: close\r\n", true)
)

func errAnswer(status, reason string) string {
	return answer(status, reason, "Connection: close\r\n", true)
}

// run feeds input to a new Server in pieces of size bytes and returns what
// it wrote, with every Date line checked and removed, and the transport.
func run(t *testing.T, f *httpplain.Factory, input string, size int) (string, *transporttest.Transport) {
	t.Helper()
	p := f.BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	for _, piece := range transporttest.Chunks([]byte(input), size) {
		if tr.Disconnecting() {
			break // the reactor delivers nothing once closing
		}
		p.DataReceived(piece)
	}
	out := string(tr.Value())
	if n, m := strings.Count(out, "HTTP/1.1 "), len(dateRE.FindAllString(out, -1)); n != m {
		t.Fatalf("%d answers but %d Date lines in %q", n, m, out)
	}
	return dateRE.ReplaceAllString(out, ""), tr
}

func TestAnswers(t *testing.T) {
	cases := []struct {
		name    string
		input   string
		want    string
		closed  bool
		wantErr error
	}{
		{name: "one GET", input: get, want: ok},
		{name: "pipelined 16", input: strings.Repeat(get, 16), want: strings.Repeat(ok, 16)},
		{name: "minimal", input: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", want: ok},
		{name: "bare LF lines", input: "GET / HTTP/1.1\nHost: x\n\n", want: ok},
		{name: "empty line before a request", input: get + "\r\n" + get, want: ok + ok},
		{name: "HEAD has no body", input: "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get,
			want: answer("200 OK", httpplain.Body, "", false) + ok},
		{name: "POST body skipped", input: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world" + get,
			want: ok + ok},
		{name: "header names and values any case", input: "GET / HTTP/1.1\r\nhOsT: x\r\ncontent-LENGTH:  3 \r\n\r\nabc" + get,
			want: ok + ok},
		{name: "Connection: close", input: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get,
			want: okClose, closed: true},
		{name: "Connection: close among tokens", input: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n",
			want: okClose, closed: true},
		{name: "HTTP/1.0 closes", input: "GET / HTTP/1.0\r\n\r\n" + get, want: okClose, closed: true},
		{name: "HTTP/1.0 keep-alive", input: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + get,
			want: answer("200 OK", httpplain.Body, "Connection: keep-alive\r\n", true) + ok},
		{name: "no Host", input: "GET / HTTP/1.1\r\n\r\n", want: errAnswer("400 Bad Request", "Bad Request"),
			closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "bad request line", input: get + "GET /\r\n\r\n" + get, want: ok + errAnswer("400 Bad Request", "Bad Request"),
			closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "bad version", input: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", want: errAnswer("400 Bad Request", "Bad Request"),
			closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "bad method", input: "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", want: errAnswer("400 Bad Request", "Bad Request"),
			closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "header without colon", input: "GET / HTTP/1.1\r\nHost x\r\n\r\n", want: errAnswer("400 Bad Request", "Bad Request"),
			closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "bad Content-Length", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
			want: errAnswer("400 Bad Request", "Bad Request"), closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "conflicting Content-Length", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
			want: errAnswer("400 Bad Request", "Bad Request"), closed: true, wantErr: httpplain.ErrBadRequest},
		{name: "chunked", input: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			want: errAnswer("501 Not Implemented", "Not Implemented"), closed: true, wantErr: httpplain.ErrTransferEncoding},
		{name: "body too large", input: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n",
			want: errAnswer("413 Content Too Large", "Content Too Large"), closed: true, wantErr: httpplain.ErrBodyTooLarge},
		{name: "head too large", input: "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n",
			want:   errAnswer("431 Request Header Fields Too Large", "Request Header Fields Too Large"),
			closed: true, wantErr: httpplain.ErrHeaderTooLarge},
		{name: "head too large, never ending", input: strings.Repeat("a", 9000),
			want:   errAnswer("431 Request Header Fields Too Large", "Request Header Fields Too Large"),
			closed: true, wantErr: httpplain.ErrHeaderTooLarge},
	}
	for _, c := range cases {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", c.name, size), func(t *testing.T) {
				got, tr := run(t, &httpplain.Factory{}, c.input, size)
				if got != c.want {
					t.Fatalf("answered\n%q\nwant\n%q", got, c.want)
				}
				if tr.Disconnecting() != c.closed {
					t.Fatalf("disconnecting %v, want %v", tr.Disconnecting(), c.closed)
				}
				if err := tr.CloseError(); !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
					t.Fatalf("closed with %v, want %v", err, c.wantErr)
				}
			})
		}
	}
}

// TestSplitAtEveryByte feeds two pipelined requests (one with a body) in two
// reads, cut at every possible byte.
func TestSplitAtEveryByte(t *testing.T) {
	input := "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + get
	for cut := 0; cut <= len(input); cut++ {
		p := (&httpplain.Factory{}).BuildProtocol(nil)
		tr := transporttest.New()
		protocol.MakeConnection(p, tr)
		p.DataReceived([]byte(input[:cut]))
		p.DataReceived([]byte(input[cut:]))
		got := dateRE.ReplaceAllString(string(tr.Value()), "")
		if got != ok+ok {
			t.Fatalf("cut at %d: answered %q", cut, got)
		}
	}
}

// TestSmallHeaderLimit checks the limit counts the head, terminator
// included, whether it arrives whole or in pieces.
func TestSmallHeaderLimit(t *testing.T) {
	f := &httpplain.Factory{MaxHeaderBytes: len(get)}
	for _, size := range transporttest.ChunkSizes {
		got, tr := run(t, f, get+get, size)
		if got != ok+ok || tr.Disconnecting() {
			t.Fatalf("chunk %d: a head of exactly the limit: %q", size, got)
		}
		long := strings.Replace(get, "/plaintext", "/plaintextX", 1)
		got, tr = run(t, f, get+long, size)
		if want := ok + errAnswer("431 Request Header Fields Too Large", "Request Header Fields Too Large"); got != want {
			t.Fatalf("chunk %d: a head one byte over the limit: %q", size, got)
		}
		if !errors.Is(tr.CloseError(), httpplain.ErrHeaderTooLarge) {
			t.Fatalf("chunk %d: closed with %v", size, tr.CloseError())
		}
	}
}

func TestFactoryCheck(t *testing.T) {
	if err := (&httpplain.Factory{}).Check(); err != nil {
		t.Fatal(err)
	}
	if err := (&httpplain.Factory{MaxHeaderBytes: -1}).Check(); !errors.Is(err, httpplain.ErrLimits) {
		t.Fatalf("got %v, want ErrLimits", err)
	}
}
