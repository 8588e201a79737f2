package protocol_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// countLines counts its lines and keeps nothing.
type countLines struct {
	protocol.LineReceiver
	n int
}

func (c *countLines) LineReceived(line []byte) { c.n++ }

// countOnly counts its lines and keeps nothing.
type countOnly struct {
	protocol.LineOnlyReceiver
	n int
}

func (c *countOnly) LineReceived(line []byte) { c.n++ }

// lineStream is count lines of size bytes each, delimiter included.
func lineStream(size, count int) []byte {
	line := append(bytes.Repeat([]byte{'x'}, size-2), '\r', '\n')
	return bytes.Repeat(line, count)
}

// lineBenchCases are the receive-path workloads: many lines in each chunk,
// and lines cut across chunks (a chunk size that is no multiple of the line
// size, so most chunks end inside a line).
var lineBenchCases = []struct {
	name             string
	lineSize, chunks int // chunk size 0: all lines in one chunk
	lines            int
}{
	{"64B/many-per-chunk", 64, 0, 256},
	{"64B/split-across-chunks", 64, 50, 256},
	{"64B/split-3-byte-chunks", 64, 3, 64},
	{"1KiB/many-per-chunk", 1024, 0, 16},
	{"1KiB/split-across-chunks", 1024, 1000, 16},
	{"16KiB/1KiB-chunks", 16 << 10, 1 << 10, 4},
}

func benchLines(b *testing.B, p protocol.Protocol, lineSize, chunkSize, lines int) {
	data := lineStream(lineSize, lines)
	chunks := transporttest.Chunks(data, chunkSize)
	protocol.MakeConnection(p, transporttest.New())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range chunks {
			p.DataReceived(c)
		}
	}
}

func BenchmarkLineReceiver(b *testing.B) {
	for _, bc := range lineBenchCases {
		b.Run(bc.name, func(b *testing.B) {
			p := &countLines{}
			benchLines(b, p, bc.lineSize, bc.chunks, bc.lines)
			if p.n == 0 {
				b.Fatal("no line received")
			}
		})
	}
}

func BenchmarkLineOnlyReceiver(b *testing.B) {
	for _, bc := range lineBenchCases {
		b.Run(bc.name, func(b *testing.B) {
			p := &countOnly{}
			benchLines(b, p, bc.lineSize, bc.chunks, bc.lines)
			if p.n == 0 {
				b.Fatal("no line received")
			}
		})
	}
}

// BenchmarkLineReceiverLongLineByteByByte feeds one line of MaxLength bytes
// one byte at a time: the cost per byte must stay flat however long the
// buffered line grows.
func BenchmarkLineReceiverLongLineByteByByte(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			p := &countLines{}
			p.MaxLength = size
			benchLines(b, p, size+2, 1, 1)
		})
	}
}

func BenchmarkSendLine(b *testing.B) {
	p := &countLines{}
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	line := bytes.Repeat([]byte{'x'}, 62)
	b.SetBytes(int64(len(line) + 2))
	b.ReportAllocs()
	for b.Loop() {
		tr.Clear()
		if err := p.SendLine(line); err != nil {
			b.Fatal(err)
		}
	}
}
