package stream_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/stream"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// lineOnlyEcho is the LineReceiver echo the stream is compared with: it
// hands out lines without copying them (valid during the call only).
type lineOnlyEcho struct{ protocol.LineOnlyReceiver }

func (e *lineOnlyEcho) LineReceived(line []byte) { _ = e.SendLine(line) }

// BenchmarkLineEcho echoes 64-byte lines on an in-memory transport, 8 per
// DataReceived (a pipelined client): through a Stream (ReadUntil, Write,
// and, for "stream-await", the next read only once the write's done ran),
// and through protocol.LineOnlyReceiver. The difference between
// "stream-nowait" and "lineonly" is the stream's cost over a receiver that
// lends its lines, mostly the copy that makes lines the callee's and the
// garbage it leaves; "stream-reuse" lends its lines too (ReuseBuffer).
// ns/op is per line.
func BenchmarkLineEcho(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprint("line=", size), func(b *testing.B) { benchLineEcho(b, size) })
	}
}

func benchLineEcho(b *testing.B, size int) {
	line := append(bytes.Repeat([]byte{'y'}, size-1), '\n')
	crlf := append(bytes.Repeat([]byte{'y'}, size-2), '\r', '\n')
	const perChunk = 8
	for _, kind := range []string{"lineonly", "stream-nowait", "stream-reuse", "stream-await"} {
		b.Run(kind, func(b *testing.B) {
			tr := transporttest.New()
			var feed func([]byte)
			var chunk []byte
			switch kind {
			case "lineonly":
				p := &lineOnlyEcho{}
				p.MaxLength = 1 << 20
				protocol.MakeConnection(p, tr)
				feed, chunk = p.DataReceived, bytes.Repeat(crlf, perChunk)
			default:
				var n int
				s := stream.New(func(s *stream.Stream) {
					s.ReuseBuffer = kind == "stream-reuse"
					if kind == "stream-await" {
						echoLines(s, &n)
						return
					}
					nl := []byte("\n")
					var gotLine func([]byte, error)
					gotLine = func(data []byte, err error) {
						if err == nil {
							_ = s.Write(data, nil)
							s.ReadUntil(nl, 0, gotLine)
						}
					}
					s.ReadUntil(nl, 0, gotLine)
				})
				protocol.MakeConnection(s, tr)
				chunk = bytes.Repeat(line, perChunk)
				feed = func(data []byte) {
					s.DataReceived(data)
					for kind == "stream-await" && s.Writing() {
						drain(b, tr)
					}
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			b.ResetTimer()
			for i := 0; i < b.N; i += perChunk {
				feed(chunk)
				tr.Clear()
			}
		})
	}
}

// BenchmarkReadUntilChunks measures ReadUntil alone (no write) at several
// line sizes, all the data in one DataReceived per 16 lines.
func BenchmarkReadUntilChunks(b *testing.B) {
	for _, size := range []int{16, 64, 1024} {
		b.Run(fmt.Sprintf("line=%d", size), func(b *testing.B) {
			line := append(bytes.Repeat([]byte{'y'}, size-1), '\n')
			chunk := bytes.Repeat(line, 16)
			nl := []byte("\n")
			s := stream.New(func(s *stream.Stream) {
				var got func([]byte, error)
				got = func(_ []byte, err error) {
					if err == nil {
						s.ReadUntil(nl, 0, got)
					}
				}
				s.ReadUntil(nl, 0, got)
			})
			protocol.MakeConnection(s, transporttest.New())
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i += 16 {
				s.DataReceived(chunk)
			}
		})
	}
}
