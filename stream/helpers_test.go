package stream_test

import "github.com/whirl-go/whirl/stream"

// echoLines is Tornado's tcpecho on s: read a line, write it, wait for the
// write, read the next. The callbacks are bound once. It counts the lines.
func echoLines(s *stream.Stream, n *int) {
	nl := []byte("\n")
	var gotLine func([]byte, error)
	var written func(error)
	gotLine = func(data []byte, err error) {
		if err != nil {
			return
		}
		*n++
		_ = s.Write(data, written)
	}
	written = func(err error) {
		if err == nil {
			s.ReadUntil(nl, 0, gotLine)
		}
	}
	s.ReadUntil(nl, 0, gotLine)
}
