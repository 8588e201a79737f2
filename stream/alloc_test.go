//go:build !race

package stream_test

import (
	"bytes"
	"testing"

	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestLineEchoAllocs pins the steady-state allocations of a line echo
// through ReadUntil and Write with a done callback (Tornado's tcpecho):
// nothing per line but the receive blocks the stream copies into, one
// 16 KiB block per 16 KiB received (the data handed to callbacks is the
// callee's to keep, so a block is never reused). A run of 1000 lines of 64
// bytes receives 64000 bytes: at most 4 blocks.
func TestLineEchoAllocs(t *testing.T) {
	for _, size := range []int{64, 64 * 8, 0} { // a line, 8 lines, 1000 lines per DataReceived
		var echoed int
		s, tr := connect(t, func(s *stream.Stream) { echoLines(s, &echoed) })
		line := append(bytes.Repeat([]byte{'y'}, 63), '\n')
		input := bytes.Repeat(line, 1000)
		pieces := transporttest.Chunks(input, size)
		run := func() {
			for _, piece := range pieces {
				s.DataReceived(piece)
				for s.Writing() {
					drain(t, tr) // the output left: the done callback reads on
				}
			}
			tr.Clear()
		}
		for range 20 {
			run()
		}
		allocs := testing.AllocsPerRun(100, run)
		t.Logf("chunk %d: %.0f allocations per 1000 lines", size, allocs)
		if allocs > 4 {
			t.Errorf("chunk %d: %.0f allocations per 1000 lines of 64 bytes, want at most 4 (one 16 KiB block per 16 KiB)", size, allocs)
		}
		if want := 121 * 1000; echoed != want {
			t.Errorf("chunk %d: echoed %d lines, want %d", size, echoed, want)
		}
	}
}

// TestLineEchoNoWaitAllocs is the same without waiting for the writes: the
// next read starts in the read callback.
func TestLineEchoNoWaitAllocs(t *testing.T) {
	var n int
	s, tr := connect(t, func(s *stream.Stream) {
		var gotLine func([]byte, error)
		nl := []byte("\n")
		gotLine = func(data []byte, err error) {
			if err != nil {
				return
			}
			n++
			_ = s.Write(data, nil)
			s.ReadUntil(nl, 0, gotLine)
		}
		s.ReadUntil(nl, 0, gotLine)
	})
	input := bytes.Repeat(append(bytes.Repeat([]byte{'y'}, 63), '\n'), 1000)
	run := func() {
		s.DataReceived(input)
		drain(t, tr)
		tr.Clear()
	}
	run()
	if allocs := testing.AllocsPerRun(100, run); allocs > 4 {
		t.Errorf("%.0f allocations per 1000 lines of 64 bytes, want at most 4", allocs)
	}
}
