package stream_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// connect returns a stream connected to an in-memory transport, with
// connected run as the reactor would run it.
func connect(t *testing.T, connected func(*stream.Stream)) (*stream.Stream, *transporttest.Transport) {
	t.Helper()
	tr := transporttest.New()
	s := stream.New(connected)
	protocol.MakeConnection(s, tr)
	return s, tr
}

// primed records the producers whose registration call was made.
var primed = map[transport.Producer]bool{}

// drain tells the stream that its transport's output buffer is empty, as
// the reactor does by calling the pull producer's ResumeProducing; the
// first time, it makes the registration's own call first, as the reactor
// does right after RegisterProducer.
func drain(t testing.TB, tr *transporttest.Transport) {
	t.Helper()
	p, streaming := tr.Producer()
	if p == nil {
		return // no write with a done yet: nothing waits
	}
	if streaming {
		t.Fatal("the stream registered a streaming producer, want a pull producer")
	}
	if !primed[p] {
		primed[p] = true
		p.ResumeProducing()
	}
	p.ResumeProducing()
}

// feed gives data to s in pieces of size bytes (transporttest.Chunks),
// stopping while the transport is paused, as the reactor does. It returns
// what was not fed.
func feed(s *stream.Stream, tr *transporttest.Transport, data []byte, size int) []byte {
	for _, piece := range transporttest.Chunks(data, size) {
		if tr.Paused() {
			return data
		}
		s.DataReceived(piece)
		data = data[len(piece):]
	}
	return data
}

// results records what a read loop got.
type results struct {
	data  []string
	kept  [][]byte
	err   error
	depth int
	deep  int // the deepest nesting of callbacks seen
}

// loop starts read again from each of its callbacks until an error, as a
// Tornado coroutine's "while True: data = await ...".
func loop(s *stream.Stream, read func(cb func([]byte, error)), r *results) {
	var cb func([]byte, error)
	cb = func(data []byte, err error) {
		r.depth++
		r.deep = max(r.deep, r.depth)
		defer func() { r.depth-- }()
		if err != nil {
			r.err = err
			return
		}
		r.data = append(r.data, string(data))
		r.kept = append(r.kept, data)
		read(cb)
	}
	read(cb)
}

func TestReads(t *testing.T) {
	nl := []byte("\r\n")
	re := regexp.MustCompile(`\r?\n`)
	tests := []struct {
		name  string
		read  func(s *stream.Stream) func(cb func([]byte, error))
		input string
		want  []string
		// what the read pending at a clean close gets
		wantEOF    []string // more data (ReadUntilClose)
		wantClosed bool     // an error matching ErrStreamClosed
		buffered   int      // left after the close
	}{
		{"ReadUntil", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadUntil(nl, 0, cb) }
		}, "ab\r\ncd\r\n\r\nxyz\r", []string{"ab\r\n", "cd\r\n", "\r\n"}, nil, true, 4},
		{"ReadUntil/long delimiter", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadUntil([]byte("aab"), 0, cb) }
		}, "aaabaabxaaab", []string{"aaab", "aab", "xaaab"}, nil, true, 0},
		{"ReadUntil/maxBytes exact", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadUntil(nl, 6, cb) }
		}, "abcd\r\n\r\n", []string{"abcd\r\n", "\r\n"}, nil, true, 0},
		{"ReadUntilRegex", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadUntilRegex(re, 0, cb) }
		}, "a\nb\r\n\nc", []string{"a\n", "b\r\n", "\n"}, nil, true, 1},
		{"ReadBytes", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadBytes(3, false, cb) }
		}, "abcdefgh", []string{"abc", "def"}, nil, true, 2},
		{"ReadBytes/zero", func(s *stream.Stream) func(func([]byte, error)) {
			n := 0
			return func(cb func([]byte, error)) {
				if n++; n > 3 {
					s.ReadUntilClose(cb)
					return
				}
				s.ReadBytes(0, false, cb)
			}
		}, "abc", []string{"", "", ""}, []string{"abc"}, true, 0},
		{"ReadUntilClose", func(s *stream.Stream) func(func([]byte, error)) {
			return func(cb func([]byte, error)) { s.ReadUntilClose(cb) }
		}, "hello, world", nil, []string{"hello, world"}, true, 0},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			for _, reuse := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/chunk=%d/reuse=%v", tt.name, size, reuse), func(t *testing.T) {
					var r results
					s, tr := connect(t, func(s *stream.Stream) {
						s.ReuseBuffer = reuse
						loop(s, tt.read(s), &r)
					})
					input := []byte(tt.input)
					if rest := feed(s, tr, input, size); len(rest) > 0 {
						t.Fatalf("transport paused with %q not fed", rest)
					}
					if !equal(r.data, tt.want) {
						t.Errorf("got %q, want %q", r.data, tt.want)
					}
					if r.err != nil {
						t.Fatalf("error before the close: %v", r.err)
					}
					if r.deep > 1 {
						t.Errorf("callbacks nested %d deep, want 1: a read started in a callback must not call back inside it", r.deep)
					}
					// The data is the callee's: the input's memory may change.
					copy(input, bytes.Repeat([]byte{'#'}, len(input)))
					for i, k := range r.kept {
						if reuse {
							break // lent, not given
						}
						if string(k) != r.data[i] || cap(k) != len(k) {
							t.Errorf("kept slice %d = %q (cap %d), want %q (cap %d)", i, k, cap(k), r.data[i], len(r.data[i]))
						}
					}
					s.ConnectionLost(transport.ErrConnectionDone)
					if !equal(r.data[len(tt.want):], tt.wantEOF) {
						t.Errorf("at the close got %q, want %q", r.data[len(tt.want):], tt.wantEOF)
					}
					if tt.wantClosed != errors.Is(r.err, stream.ErrStreamClosed) || (tt.wantClosed && !errors.Is(r.err, transport.ErrConnectionDone)) {
						t.Errorf("read pending at the close got %v, want ErrStreamClosed and ErrConnectionDone: %v", r.err, tt.wantClosed)
					}
					if got := s.Buffered(); got != tt.buffered {
						t.Errorf("Buffered() = %d after the close, want %d", got, tt.buffered)
					}
				})
			}
		}
	}
}

// TestReadBytesPartial checks that partial reads return what is buffered,
// up to n, at every chunk size.
func TestReadBytesPartial(t *testing.T) {
	input := "abcdefghijklmnopq"
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			var r results
			s, tr := connect(t, func(s *stream.Stream) {
				loop(s, func(cb func([]byte, error)) { s.ReadBytes(5, true, cb) }, &r)
			})
			feed(s, tr, []byte(input), size)
			if got := strings.Join(r.data, ""); got != input {
				t.Errorf("got %q, want %q", got, input)
			}
			for _, d := range r.data {
				if len(d) == 0 || len(d) > 5 || (size > 0 && len(d) > size) {
					t.Errorf("piece %q: want 1 to min(5, %d) bytes", d, size)
				}
			}
		})
	}
}

func TestReadInto(t *testing.T) {
	for _, partial := range []bool{false, true} {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("partial=%v/chunk=%d", partial, size), func(t *testing.T) {
				var got []string
				var last error
				buf := make([]byte, 4)
				s, tr := connect(t, func(s *stream.Stream) {
					var cb func(int, error)
					cb = func(n int, err error) {
						if err != nil {
							last = err
							return
						}
						got = append(got, string(buf[:n]))
						s.ReadInto(buf, partial, cb)
					}
					s.ReadInto(buf, partial, cb)
				})
				feed(s, tr, []byte("abcdefghij"), size)
				joined := strings.Join(got, "")
				if !partial && !equal(got, []string{"abcd", "efgh"}) {
					t.Errorf("got %q, want abcd, efgh", got)
				}
				if partial && joined != "abcdefghij" {
					t.Errorf("got %q, want all of abcdefghij", got)
				}
				s.ConnectionLost(transport.Lost(syscall.ECONNRESET))
				if !errors.Is(last, stream.ErrStreamClosed) || !errors.Is(last, transport.ErrConnectionLost) || !errors.Is(last, syscall.ECONNRESET) {
					t.Errorf("pending ReadInto at a reset got %v, want ErrStreamClosed wrapping the reset", last)
				}
			})
		}
	}
}

func TestReadLimits(t *testing.T) {
	nl := []byte("\n")
	re := regexp.MustCompile(`\n`)
	tests := []struct {
		name     string
		maxBuf   int
		read     func(s *stream.Stream, cb func([]byte, error))
		input    string
		want     []string
		wantErr  error
		closedAt bool // the error comes only at the close (ReadUntilClose)
	}{
		{"ReadUntil/maxBytes", 0, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntil(nl, 5, cb) },
			"abcd\nabcde\nxx", []string{"abcd\n"}, stream.ErrUnsatisfiableRead, false},
		{"ReadUntil/maxBytes without delimiter", 0, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntil(nl, 5, cb) },
			"abcdefgh", nil, stream.ErrUnsatisfiableRead, false},
		{"ReadUntil/MaxBufferSize", 8, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntil(nl, 0, cb) },
			"1234567\n12345678\n", []string{"1234567\n"}, stream.ErrStreamBufferFull, false},
		{"ReadUntil/maxBytes above MaxBufferSize", 8, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntil(nl, 100, cb) },
			"123456789\n", nil, stream.ErrStreamBufferFull, false},
		{"ReadUntilRegex/maxBytes", 0, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntilRegex(re, 5, cb) },
			"abcd\nabcde\nxx", []string{"abcd\n"}, stream.ErrUnsatisfiableRead, false},
		{"ReadUntilRegex/MaxBufferSize", 8, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntilRegex(re, 0, cb) },
			"1234567\n123456789012", []string{"1234567\n"}, stream.ErrStreamBufferFull, false},
		{"ReadBytes/over MaxBufferSize", 8, func(s *stream.Stream, cb func([]byte, error)) { s.ReadBytes(9, false, cb) },
			"123456789", nil, stream.ErrStreamBufferFull, false},
		{"ReadUntilClose/MaxBufferSize", 8, func(s *stream.Stream, cb func([]byte, error)) { s.ReadUntilClose(cb) },
			"123456789", nil, stream.ErrStreamBufferFull, false},
	}
	for _, tt := range tests {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tt.name, size), func(t *testing.T) {
				var r results
				var closed bool
				s, tr := connect(t, func(s *stream.Stream) {
					s.MaxBufferSize = tt.maxBuf
					s.SetCloseCallback(func() { closed = true })
					loop(s, func(cb func([]byte, error)) { tt.read(s, cb) }, &r)
				})
				feed(s, tr, []byte(tt.input), size)
				if !equal(r.data, tt.want) {
					t.Errorf("got %q, want %q", r.data, tt.want)
				}
				if !errors.Is(r.err, stream.ErrStreamClosed) || !errors.Is(r.err, tt.wantErr) {
					t.Fatalf("read got %v, want ErrStreamClosed wrapping %v", r.err, tt.wantErr)
				}
				if !s.Closed() || !tr.Disconnected() {
					t.Error("stream not closed after a failed read")
				}
				if err := tr.CloseError(); !errors.Is(err, tt.wantErr) {
					t.Errorf("transport closed with %v, want %v", err, tt.wantErr)
				}
				if !errors.Is(s.CloseReason(), tt.wantErr) {
					t.Errorf("CloseReason() = %v, want %v", s.CloseReason(), tt.wantErr)
				}
				if closed {
					t.Error("close callback ran before the connection was gone")
				}
				s.ConnectionLost(transport.Aborted(tr.CloseError()))
				if !closed {
					t.Error("close callback did not run at ConnectionLost")
				}
				if !errors.Is(s.CloseReason(), tt.wantErr) {
					t.Errorf("CloseReason() after ConnectionLost = %v, want %v", s.CloseReason(), tt.wantErr)
				}
			})
		}
	}
}

func TestWriteDone(t *testing.T) {
	var order []string
	s, tr := connect(t, nil)
	done := func(name string) func(error) {
		return func(err error) { order = append(order, fmt.Sprintf("%s:%v", name, err)) }
	}
	if err := s.Write([]byte("abc"), done("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]byte("def"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(nil, done("barrier")); err != nil {
		t.Fatal(err)
	}
	if got := string(tr.Value()); got != "abcdef" {
		t.Errorf("transport got %q, want abcdef", got)
	}
	if len(order) != 0 || !s.Writing() {
		t.Fatalf("done ran (%q) before the transport's buffer emptied; Writing() = %v", order, s.Writing())
	}
	// A done that writes: its write waits for the next drain.
	if err := s.Write([]byte("g"), func(err error) {
		order = append(order, "c")
		_ = s.Write([]byte("h"), done("d"))
	}); err != nil {
		t.Fatal(err)
	}
	drain(t, tr)
	if want := []string{"a:<nil>", "barrier:<nil>", "c"}; !equal(order, want) {
		t.Errorf("after the drain: %q, want %q", order, want)
	}
	if !s.Writing() {
		t.Error("Writing() = false with a write waiting")
	}
	drain(t, tr)
	if want := []string{"a:<nil>", "barrier:<nil>", "c", "d:<nil>"}; !equal(order, want) {
		t.Errorf("after the second drain: %q, want %q", order, want)
	}
	if s.Writing() {
		t.Error("Writing() = true after everything drained")
	}
}

func TestWriteDoneAtClose(t *testing.T) {
	tests := []struct {
		reason  error
		wantNil bool
	}{
		{transport.ErrConnectionDone, true},
		{transport.Lost(syscall.ECONNRESET), false},
		{transport.ErrConnectionAborted, false},
	}
	for _, tt := range tests {
		t.Run(tt.reason.Error(), func(t *testing.T) {
			s, _ := connect(t, nil)
			var got error = errors.New("not called")
			if err := s.Write([]byte("abc"), func(err error) { got = err }); err != nil {
				t.Fatal(err)
			}
			s.ConnectionLost(tt.reason)
			if tt.wantNil && got != nil {
				t.Errorf("done(%v) after a clean close, want nil", got)
			}
			if !tt.wantNil && (!errors.Is(got, stream.ErrStreamClosed) || !errors.Is(got, tt.reason)) {
				t.Errorf("done(%v), want ErrStreamClosed wrapping %v", got, tt.reason)
			}
			if err := s.Write([]byte("x"), nil); !errors.Is(err, stream.ErrStreamClosed) {
				t.Errorf("Write after close = %v, want ErrStreamClosed", err)
			}
		})
	}
}

func TestMaxWriteBufferSize(t *testing.T) {
	s, tr := connect(t, func(s *stream.Stream) { s.MaxWriteBufferSize = 10 })
	if err := s.Write([]byte("123456"), nil); err != nil {
		t.Fatal(err)
	}
	called := false
	if err := s.Write([]byte("12345"), func(error) { called = true }); !errors.Is(err, stream.ErrStreamBufferFull) {
		t.Fatalf("Write past MaxWriteBufferSize = %v, want ErrStreamBufferFull", err)
	}
	if s.Closed() {
		t.Error("a refused write closed the stream")
	}
	if err := s.Write([]byte("1234"), nil); err != nil {
		t.Errorf("Write up to MaxWriteBufferSize = %v", err)
	}
	drain(t, tr)
	if err := s.Write([]byte("12345"), nil); err != nil {
		t.Errorf("Write after the drain = %v", err)
	}
	if called {
		t.Error("the refused write's done ran")
	}
	if got := string(tr.Value()); got != "123456123412345" {
		t.Errorf("transport got %q", got)
	}
}

func TestCloseWhileReading(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		var r results
		var s *stream.Stream
		s, tr := connect(t, func(s *stream.Stream) {
			loop(s, func(cb func([]byte, error)) { s.ReadUntil([]byte("\n"), 0, cb) }, &r)
		})
		s.DataReceived([]byte("abc"))
		s.Close() // from outside a callback: the error comes after it returns
		if r.err != nil {
			t.Fatal("callback ran inside Close")
		}
		tr.Clock().Advance(0)
		if !errors.Is(r.err, stream.ErrStreamClosed) {
			t.Errorf("pending read got %v, want ErrStreamClosed", r.err)
		}
		if !tr.Disconnected() || tr.Aborted() {
			t.Error("Close did not LoseConnection the transport")
		}
		s.DataReceived([]byte("\n"))
		if len(r.data) != 0 {
			t.Errorf("delivered %q after Close", r.data)
		}
	})
	t.Run("Close delivers ReadUntilClose", func(t *testing.T) {
		var got string
		var gerr error
		s, tr := connect(t, func(s *stream.Stream) {
			s.ReadUntilClose(func(d []byte, err error) { got, gerr = string(d), err })
		})
		s.DataReceived([]byte("all of it"))
		s.Close()
		tr.Clock().Advance(0)
		if got != "all of it" || gerr != nil {
			t.Errorf("ReadUntilClose got %q, %v; want all of it, nil", got, gerr)
		}
	})
	t.Run("reset", func(t *testing.T) {
		var r results
		var closed int
		s, _ := connect(t, func(s *stream.Stream) {
			s.SetCloseCallback(func() { closed++ })
			loop(s, func(cb func([]byte, error)) { s.ReadBytes(10, false, cb) }, &r)
		})
		s.DataReceived([]byte("abc"))
		s.ConnectionLost(transport.Lost(syscall.ECONNRESET))
		if !errors.Is(r.err, stream.ErrStreamClosed) || !errors.Is(r.err, transport.ErrConnectionLost) {
			t.Errorf("pending read got %v, want ErrStreamClosed wrapping ErrConnectionLost", r.err)
		}
		if closed != 1 {
			t.Errorf("close callback ran %d times, want 1", closed)
		}
		if !errors.Is(s.CloseReason(), syscall.ECONNRESET) {
			t.Errorf("CloseReason() = %v", s.CloseReason())
		}
		// A read on the closed stream is served from the buffer, or fails.
		var got string
		s.ReadBytes(2, false, func(d []byte, err error) { got = string(d) })
		s.Transport().(*transporttest.Transport).Clock().Advance(0)
		if got != "ab" {
			t.Errorf("read from the buffer after close got %q, want ab", got)
		}
	})
}

func TestCallbackThatCloses(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			var lines []string
			var last error
			s, tr := connect(t, func(s *stream.Stream) {
				var cb func([]byte, error)
				cb = func(d []byte, err error) {
					if err != nil {
						last = err
						return
					}
					lines = append(lines, string(d))
					if string(d) == "quit\n" {
						s.Close()
					}
					s.ReadUntil([]byte("\n"), 0, cb) // fails: the stream is closed
				}
				s.ReadUntil([]byte("\n"), 0, cb)
			})
			feed(s, tr, []byte("a\nquit\nb\n"), size)
			if want := []string{"a\n", "quit\n"}; !equal(lines, want) {
				t.Errorf("lines %q, want %q", lines, want)
			}
			if !errors.Is(last, stream.ErrStreamClosed) {
				t.Errorf("read after Close got %v, want ErrStreamClosed", last)
			}
			if !tr.Disconnected() {
				t.Error("transport not closed")
			}
		})
	}
}

// TestReadFromBufferCallsBackLater checks that a read completed by data
// already buffered calls back after the current call, never inside it.
func TestReadFromBufferCallsBackLater(t *testing.T) {
	s, tr := connect(t, nil)
	s.DataReceived([]byte("one\ntwo\n"))
	var got []string
	s.ReadUntil([]byte("\n"), 0, func(d []byte, err error) { got = append(got, string(d)) })
	if len(got) != 0 {
		t.Fatal("callback ran inside ReadUntil")
	}
	tr.Clock().Advance(0)
	if !equal(got, []string{"one\n"}) {
		t.Errorf("got %q", got)
	}
	if !s.Reading() == false || s.Buffered() != 4 {
		t.Errorf("Reading() = %v, Buffered() = %d; want false, 4", s.Reading(), s.Buffered())
	}
}

func TestPauseWhileNotReading(t *testing.T) {
	s, tr := connect(t, func(s *stream.Stream) { s.ReadAhead = 4 })
	s.DataReceived([]byte("ab"))
	if tr.Paused() {
		t.Fatal("paused below ReadAhead")
	}
	s.DataReceived([]byte("cdef"))
	if !tr.Paused() {
		t.Fatal("not paused with ReadAhead bytes buffered and no read pending")
	}
	s.ReadUntil([]byte("\n"), 0, func([]byte, error) {})
	if tr.Paused() {
		t.Error("still paused with a read waiting for more")
	}
	s.DataReceived([]byte("0123456789")) // a read is pending: no bound but MaxBufferSize
	if tr.Paused() {
		t.Error("paused while a read is pending")
	}
}

func TestAlreadyReading(t *testing.T) {
	s, _ := connect(t, nil)
	s.ReadBytes(1, false, func([]byte, error) {})
	defer func() {
		if v := recover(); v == nil || !errors.Is(v.(error), stream.ErrAlreadyReading) {
			t.Errorf("second read panicked with %v, want ErrAlreadyReading", v)
		}
	}()
	s.ReadUntil([]byte("\n"), 0, func([]byte, error) {})
}

func TestAccessors(t *testing.T) {
	s, tr := connect(t, nil)
	if err := s.SetNoDelay(true); err != nil || !tr.NoDelay() {
		t.Errorf("SetNoDelay(true) = %v, transport NoDelay %v", err, tr.NoDelay())
	}
	if got := s.RemoteAddr().String(); got != "192.0.2.1:12345" {
		t.Errorf("RemoteAddr() = %s", got)
	}
	if s.Closed() || s.Reading() || s.Writing() || s.CloseReason() != nil {
		t.Error("a new stream is not open and idle")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
