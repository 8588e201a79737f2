package httpplain

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// Errors a connection is closed with (through CloseWithError, wrapped with
// what was wrong); ConnectionLost's reason matches them under errors.Is.
var (
	// ErrHeaderTooLarge means a request head (request line and headers)
	// grew past MaxHeaderBytes: answered 431.
	ErrHeaderTooLarge = errors.New("httpplain: request head too large")
	// ErrBadRequest means a request could not be parsed: answered 400.
	ErrBadRequest = errors.New("httpplain: bad request")
	// ErrBodyTooLarge means a request announced a body over MaxBodyBytes:
	// answered 413.
	ErrBodyTooLarge = errors.New("httpplain: request body too large")
	// ErrTransferEncoding means a request used Transfer-Encoding, which
	// this server does not read: answered 501.
	ErrTransferEncoding = errors.New("httpplain: transfer-encoding not supported")
	// ErrLimits means a Factory's limits are negative.
	ErrLimits = errors.New("httpplain: negative limit")
)

// Defaults of the Factory's limits.
const (
	// DefaultMaxHeaderBytes bounds a request's head: 8 KiB, what nginx's
	// large_client_header_buffers allows a single header line by default.
	DefaultMaxHeaderBytes = 8 << 10
	// DefaultMaxBodyBytes bounds a request's body (which is skipped, not
	// kept): 1 MiB, nginx's client_max_body_size.
	DefaultMaxBodyBytes = 1 << 20
)

// Body is what every request gets back.
const Body = "Hello World!"

// Factory makes a [Server] per connection. Set its fields before it is
// listened on; the zero value uses the defaults.
type Factory struct {
	factory.Base

	// MaxHeaderBytes bounds a request's head; 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request's announced body; 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int
}

// BuildProtocol returns a new [Server] with the factory's limits. Any
// goroutine (the reactor calls it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	return &Server{MaxHeaderBytes: f.MaxHeaderBytes, MaxBodyBytes: f.MaxBodyBytes}
}

// RegisterFlags defines --max-header-bytes and --max-body-bytes on fs,
// storing their values in f. Any goroutine, before the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxHeaderBytes, "max-header-bytes", DefaultMaxHeaderBytes, "longest request head (request line and headers) in `bytes`; longer ones are answered 431")
	fs.IntVar(&f.MaxBodyBytes, "max-body-bytes", DefaultMaxBodyBytes, "largest request body in `bytes` (skipped, never kept); larger ones are answered 413")
}

// Check reports a negative limit (an error wrapping [ErrLimits]). Any
// goroutine.
func (f *Factory) Check() error {
	if f.MaxHeaderBytes < 0 || f.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: --max-header-bytes %d, --max-body-bytes %d", ErrLimits, f.MaxHeaderBytes, f.MaxBodyBytes)
	}
	return nil
}

// Server is the per-connection protocol: a small HTTP/1.1 request parser
// that answers every request with [Body]. Its methods run on the
// connection's loop.
type Server struct {
	protocol.Base

	// MaxHeaderBytes and MaxBodyBytes are the connection's limits; 0 means
	// the defaults. Set before the connection is made.
	MaxHeaderBytes int
	MaxBodyBytes   int

	pending []byte // an unfinished request head, kept across reads
	scanned int    // bytes of pending already searched for the head's end
	skip    int64  // body bytes still to skip
	out     []byte // answers of the current read
	done    bool   // closing: nothing more is parsed

	dateSec int64               // the second ok's Date holds
	ok      [len(okAnswer)]byte // okAnswer with the Date of dateSec

	requests int64
}

// ConnectionMade registers the transport as the producer of its own output,
// so that a client pipelining without reading is pushed back by TCP. Loop
// goroutine.
func (s *Server) ConnectionMade() {
	_ = s.Transport().RegisterProducer(s.Transport(), true)
}

// Requests returns the number of requests answered so far. Loop goroutine
// (or any goroutine once the connection is lost).
func (s *Server) Requests() int64 { return s.requests }

func (s *Server) maxHeader() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return int64(s.MaxBodyBytes)
	}
	return DefaultMaxBodyBytes
}

// DataReceived parses every complete request in data (and in what earlier
// reads left), answers them all with one Write, and keeps an unfinished
// head for the next read. data is not kept. Loop goroutine.
func (s *Server) DataReceived(data []byte) {
	if s.done {
		return
	}
	s.out = s.out[:0]
	s.now()
	err := s.feed(data)
	if len(s.out) > 0 {
		_, _ = s.Transport().Write(s.out)
	}
	switch {
	case err != nil:
		s.done = true
		s.pending = nil
		s.Transport().CloseWithError(err)
	case s.done:
		s.pending = nil
		s.Transport().LoseConnection()
	}
}

// feed consumes data. It returns an error (having appended the error answer)
// for a request that cannot be answered, and sets done after an answer that
// closes the connection.
func (s *Server) feed(data []byte) error {
	for !s.done {
		if s.skip > 0 {
			n := min(s.skip, int64(len(data)))
			s.skip -= n
			data = data[n:]
		}
		if len(data) == 0 {
			return nil
		}
		if len(s.pending) > 0 {
			// Finish the head begun in an earlier read: take no more of
			// data than the head may still hold (and its terminator), and
			// parse it once it is whole.
			old := len(s.pending)
			take := min(len(data), s.maxHeader()+4-old)
			s.pending = append(s.pending, data[:take]...)
			end := headEnd(s.pending, s.scanned)
			if end < 0 {
				if len(s.pending) > s.maxHeader() {
					return s.fail(431, fmt.Errorf("%w: over %d bytes", ErrHeaderTooLarge, s.maxHeader()))
				}
				s.scanned = max(len(s.pending)-3, 0)
				return nil
			}
			n, err := s.request(s.pending[:end])
			if n != end && err == nil {
				// headEnd and request find the same end (FuzzServer checks
				// that any cut answers as the whole input does); should they
				// ever not, the connection is refused rather than misread.
				return s.fail(400, fmt.Errorf("%w: head of %d bytes parsed as %d", ErrBadRequest, end, n))
			}
			data = data[end-old:]
			s.pending, s.scanned = s.pending[:0], 0
			if err != nil {
				return err
			}
			continue
		}
		n, err := s.request(data)
		if err != nil {
			return err
		}
		if n == 0 {
			// An unfinished head: keep it for the next read.
			s.pending = append(s.pending[:0], data...)
			s.scanned = max(len(data)-3, 0)
			return nil
		}
		data = data[n:]
	}
	return nil
}

// headEnd returns the length of the request head at the start of b,
// terminator included ("\r\n\r\n", or "\n\n" from a lenient client), or -1 if
// b holds no complete head; the search starts at from. It finds the same end
// as request does, line by line.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1 // just past a '\n'
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
	return -1
}

// request parses the request head at the start of b in one pass, line by
// line, and appends its answer. It returns the head's length (terminator
// included), or 0 when b holds no whole head yet and none of it is over the
// limit: then nothing is appended. A head longer than the limit is answered
// 431; any other fault is answered only once the head is whole, so the
// answer does not depend on how the head was cut across reads.
func (s *Server) request(b []byte) (int, error) {
	limit := s.maxHeader()
	var (
		pos       int
		line      []byte
		fault     error
		status    = 400
		keepAlive bool
		http11    bool
		head      = true // the request line is next
		skipped   bool   // an empty line before the request line was
		method    []byte
		length    int64 = -1
		hasHost   bool
	)
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if len(b) > limit {
				return 0, s.fail(431, fmt.Errorf("%w: over %d bytes", ErrHeaderTooLarge, limit))
			}
			return 0, nil
		}
		line, pos = b[pos:pos+i], pos+i+1
		if pos > limit {
			return 0, s.fail(431, fmt.Errorf("%w: over %d bytes", ErrHeaderTooLarge, limit))
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		switch {
		case fault != nil:
			if len(line) == 0 { // the head's end: answer the fault
				return 0, s.fail(status, fault)
			}
		case head:
			if len(line) == 0 && !skipped {
				skipped = true
				continue // one empty line before a request is ignored (RFC 9112, 2.2)
			}
			head = false
			method, http11, fault = parseRequestLine(line)
			keepAlive = http11
			if fault != nil && len(line) == 0 {
				return 0, s.fail(status, fault) // a second empty line ends the head
			}
		case len(line) > 0:
			var name, value []byte
			name, value, fault = splitHeader(line)
			if fault != nil {
				break
			}
			switch {
			case equalFold(name, "host"):
				hasHost = true
			case equalFold(name, "content-length"):
				n, ok := parseLength(value)
				if !ok || (length >= 0 && n != length) {
					fault = fmt.Errorf("%w: Content-Length %q", ErrBadRequest, clip(value))
				}
				length = n
			case equalFold(name, "transfer-encoding"):
				status, fault = 501, fmt.Errorf("%w: %q", ErrTransferEncoding, clip(value))
			case equalFold(name, "connection"):
				if hasToken(value, "close") {
					keepAlive = false
				} else if !http11 && hasToken(value, "keep-alive") {
					keepAlive = true
				}
			}
		default: // the empty line: the head is whole
			if http11 && !hasHost {
				return 0, s.fail(400, fmt.Errorf("%w: HTTP/1.1 request without Host", ErrBadRequest))
			}
			if length > s.maxBody() {
				return 0, s.fail(413, fmt.Errorf("%w: %d bytes, over %d", ErrBodyTooLarge, length, s.maxBody()))
			}
			if length > 0 {
				s.skip = length
			}
			s.requests++
			if keepAlive && http11 && string(method) != "HEAD" {
				s.out = append(s.out, s.ok[:]...) // wrk's and browsers' request
			} else {
				s.appendAnswer(200, string(method) != "HEAD", keepAlive, http11)
			}
			if !keepAlive {
				s.done = true
			}
			return pos, nil
		}
	}
}

// parseRequestLine parses METHOD SP request-target SP HTTP-version and
// returns the method and whether the version is HTTP/1.1 (else 1.0); any
// other line is a fault wrapping ErrBadRequest.
func parseRequestLine(line []byte) (method []byte, http11 bool, fault error) {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return nil, false, fmt.Errorf("%w: request line %q", ErrBadRequest, clip(line))
	}
	method = line[:sp]
	target, version, ok := bytes.Cut(line[sp+1:], []byte(" "))
	if !ok || len(target) == 0 || !isToken(method) {
		return nil, false, fmt.Errorf("%w: request line %q", ErrBadRequest, clip(line))
	}
	switch string(version) {
	case "HTTP/1.1":
		return method, true, nil
	case "HTTP/1.0":
		return method, false, nil
	}
	return nil, false, fmt.Errorf("%w: version %q", ErrBadRequest, clip(version))
}

// splitHeader splits a header line into its name and its value, trimmed; a
// line without a colon or with a name that is not a token is a fault
// wrapping ErrBadRequest.
func splitHeader(line []byte) (name, value []byte, fault error) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return nil, nil, fmt.Errorf("%w: header line %q", ErrBadRequest, clip(line))
	}
	return line[:colon], trimOWS(line[colon+1:]), nil
}

// fail appends the answer status and returns err, which closes the
// connection.
func (s *Server) fail(status int, err error) error {
	s.appendAnswer(status, true, false, true)
	return err
}

// status returns the status line and the body of an answer with code.
func status(code int) (line, body string) {
	switch code {
	case 200:
		return "HTTP/1.1 200 OK\r\n", Body
	case 400:
		return "HTTP/1.1 400 Bad Request\r\n", "Bad Request"
	case 413:
		return "HTTP/1.1 413 Content Too Large\r\n", "Content Too Large"
	case 431:
		return "HTTP/1.1 431 Request Header Fields Too Large\r\n", "Request Header Fields Too Large"
	}
	return "HTTP/1.1 501 Not Implemented\r\n", "Not Implemented"
}

// appendAnswer appends an answer with code to s.out: the body is Body for
// 200 and the reason phrase otherwise, left out (Content-Length kept) when
// withBody is false, as a HEAD request asks. keepAlive false adds
// "Connection: close"; an HTTP/1.0 client that asked to keep the connection
// is told "Connection: keep-alive".
func (s *Server) appendAnswer(code int, withBody, keepAlive, http11 bool) {
	line, body := status(code)
	b := append(s.out, line...)
	b = append(b, "Server: whirl\r\nContent-Type: text/plain\r\nDate: "...)
	b = append(b, s.ok[okDate:okDate+dateLen]...)
	b = append(b, "\r\nContent-Length: "...)
	b = appendInt(b, len(body))
	switch {
	case !keepAlive:
		b = append(b, "\r\nConnection: close"...)
	case !http11:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	b = append(b, "\r\n\r\n"...)
	if withBody {
		b = append(b, body...)
	}
	s.out = b
}

// okAnswer is the answer to a keep-alive HTTP/1.1 request, with a
// placeholder Date (the same fields, in the same order, as appendAnswer
// writes); a Server keeps a copy with the current Date.
const okAnswer = "HTTP/1.1 200 OK\r\nServer: whirl\r\nContent-Type: text/plain\r\nDate: " +
	"Mon, 02 Jan 2006 15:04:05 GMT" + "\r\nContent-Length: 12\r\n\r\n" + Body

const (
	okDate  = len("HTTP/1.1 200 OK\r\nServer: whirl\r\nContent-Type: text/plain\r\nDate: ") // where Date's value starts
	dateLen = len("Mon, 02 Jan 2006 15:04:05 GMT")
)

// now brings the Date in s.ok up to date, formatting it again only when the
// second changed: once per read, for every answer of the read.
func (s *Server) now() {
	t := time.Now()
	if sec := t.Unix(); sec != s.dateSec {
		if s.dateSec == 0 {
			copy(s.ok[:], okAnswer)
		}
		s.dateSec = sec
		t.UTC().AppendFormat(s.ok[okDate:okDate], "Mon, 02 Jan 2006 15:04:05 GMT")
	}
}

// clip shortens what an error message quotes.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || tokenChars[c] == 0 {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = 1, 1
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = 1
	}
	return t
}()

// trimOWS trims spaces and tabs around a header value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token tok
// (lower case), ignoring case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		item, rest, _ := bytes.Cut(v, []byte(","))
		if equalFold(trimOWS(item), tok) {
			return true
		}
		v = rest
	}
	return false
}

// parseLength parses a Content-Length: decimal digits only, at most 18 of
// them.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// appendInt appends n (not negative) in decimal.
func appendInt(b []byte, n int) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}
