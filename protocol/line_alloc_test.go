//go:build !race

package protocol_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestLineReceiversAllocs checks that receiving lines allocates nothing once
// the receiver is warmed up: with many lines in a chunk, and with lines cut
// across chunks (which go through the receiver's buffer).
func TestLineReceiversAllocs(t *testing.T) {
	kinds := []struct {
		name string
		make func() (protocol.Protocol, func() int)
	}{
		{"LineReceiver", func() (protocol.Protocol, func() int) {
			p := &countLines{}
			return p, func() int { return p.n }
		}},
		{"LineOnlyReceiver", func() (protocol.Protocol, func() int) {
			p := &countOnly{}
			return p, func() int { return p.n }
		}},
	}
	cases := []struct {
		name      string
		lineSize  int
		chunkSize int
	}{
		{"64B lines, one chunk", 64, 0},
		{"64B lines, 50-byte chunks", 64, 50},
		{"64B lines, 1-byte chunks", 64, 1},
		{"1KiB lines, 1000-byte chunks", 1024, 1000},
	}
	for _, kind := range kinds {
		for _, c := range cases {
			t.Run(kind.name+"/"+c.name, func(t *testing.T) {
				p, count := kind.make()
				protocol.MakeConnection(p, transporttest.New())
				data := lineStream(c.lineSize, 100)
				chunks := transporttest.Chunks(data, c.chunkSize)
				allocs := testing.AllocsPerRun(50, func() {
					for _, piece := range chunks {
						p.DataReceived(piece)
					}
				})
				if allocs != 0 {
					t.Errorf("%v allocations per run of 100 lines, want 0", allocs)
				}
				if got, want := count(), 51*100; got != want {
					t.Errorf("%d lines received, want %d", got, want)
				}
			})
		}
	}
}

// TestSendLineAllocs checks that SendLine allocates nothing of its own.
func TestSendLineAllocs(t *testing.T) {
	for _, delim := range []string{"", "\n", "<EOL>"} {
		t.Run(fmt.Sprintf("%q", delim), func(t *testing.T) {
			p := &countLines{}
			p.Delimiter = delim
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)
			line := bytes.Repeat([]byte{'x'}, 62)
			allocs := testing.AllocsPerRun(100, func() {
				tr.Clear()
				if err := p.SendLine(line); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per SendLine, want 0", allocs)
			}
		})
	}
}

// TestLineReceiverReleasesLargeBuffer checks that the buffer that held a
// long incomplete line is not kept once the line is delivered: the next long
// line needs a new one, while short lines reuse theirs.
func TestLineReceiverReleasesLargeBuffer(t *testing.T) {
	tests := []struct {
		name     string
		lineSize int
		wantNew  bool
	}{
		{"64B line", 64, false},
		{"12KiB line", 12 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &countLines{}
			protocol.MakeConnection(p, transporttest.New())
			line := lineStream(tt.lineSize, 1)
			head, tail := line[:len(line)-1], line[len(line)-1:]
			allocs := testing.AllocsPerRun(20, func() {
				p.DataReceived(head)
				p.DataReceived(tail)
			})
			if got := allocs > 0; got != tt.wantNew {
				t.Errorf("%v allocations per line cut in two, want new buffers: %v", allocs, tt.wantNew)
			}
		})
	}
}
