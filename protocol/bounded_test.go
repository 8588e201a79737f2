package protocol_test

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// heapAllocated returns the bytes allocated on the heap while fn ran.
func heapAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// headerOnly is a frame header announcing the longest string k allows, as
// a hostile peer sends it, followed by a few bytes of payload.
func headerOnly(k strKind) (header []byte, maxLength int) {
	const payload = "xyz"
	switch k.width {
	case 0:
		return []byte(fmt.Sprintf("%d:%s", math.MaxInt32, payload)), math.MaxInt32
	case 4:
		return []byte(strPrefix(4, math.MaxInt32) + payload), math.MaxInt32
	default:
		n := 1<<(8*k.width) - 1
		return []byte(strPrefix(k.width, uint64(n)) + payload), n
	}
}

// TestStringReceiversHeaderOnlyAllocation checks that a header announcing a
// huge string costs only what arrived: 20 connections whose peers send a
// header announcing 2^31-1 bytes (the receivers' MaxLength) and 3 bytes of
// payload allocate a few hundred bytes, not the announced 40 GiB.
func TestStringReceiversHeaderOnlyAllocation(t *testing.T) {
	const conns = 20
	for _, k := range strKinds {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunks of %d", k.name, size), func(t *testing.T) {
				header, maxLength := headerOnly(k)
				ps := make([]strProto, conns)
				pieces := transporttest.Chunks(header, size)
				for i := range ps {
					ps[i], _ = strConnect(k.plain)
					ps[i].setMaxLength(maxLength)
				}
				got := heapAllocated(func() {
					for _, p := range ps {
						for _, piece := range pieces {
							p.DataReceived(piece)
						}
					}
				})
				if per := got / conns; per > 1<<10 {
					t.Errorf("%d bytes allocated per connection for a header announcing %d bytes, want at most 1 KiB", per, maxLength)
				}
				for _, p := range ps {
					if c := p.bufferCap(); c > 64 {
						t.Errorf("buffer capacity %d after 3 bytes of payload, want at most 64", c)
					}
					if err := p.Err(); err != nil {
						t.Fatalf("Err() = %v, want nil (the announced length is MaxLength)", err)
					}
				}
			})
		}
	}
}

// TestStringReceiversBufferGrowsWithData feeds a long string in pieces and
// checks that the buffer never runs far ahead of what arrived: at most
// twice the bytes received, or 64 bytes.
func TestStringReceiversBufferGrowsWithData(t *testing.T) {
	const n = 200000
	for _, k := range strKinds {
		if k.maxSend < n {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			p, _ := strConnect(k.plain)
			p.setMaxLength(n)
			frame := strEncode(k, []string{strings.Repeat("g", n)})
			received := 0
			for _, piece := range transporttest.Chunks(frame, 1000) {
				p.DataReceived(piece)
				received += len(piece)
				if len(p.ev().strings) > 0 {
					break
				}
				if c := p.bufferCap(); c > max(2*received, 64) {
					t.Fatalf("buffer capacity %d after %d bytes received, want at most %d", c, received, max(2*received, 64))
				}
			}
			if got := p.ev().strings; len(got) != 1 || len(got[0]) != n {
				t.Errorf("received %d strings, want one of %d bytes", len(got), n)
			}
		})
	}
}

// TestLineReceiversUnfinishedLineAllocation checks the same of the line
// receivers: an unfinished line costs what arrived, whatever MaxLength.
func TestLineReceiversUnfinishedLineAllocation(t *testing.T) {
	const conns = 20
	for _, kind := range lineKinds {
		t.Run(kind.name, func(t *testing.T) {
			ps := make([]lineProto, conns)
			for i := range ps {
				ps[i], _ = kind.make("", math.MaxInt32, "")
				protocol.MakeConnection(ps[i], transporttest.New())
			}
			data := []byte(strings.Repeat("u", 100))
			got := heapAllocated(func() {
				for _, p := range ps {
					p.DataReceived(data)
				}
			})
			if per := got / conns; per > 1<<10 {
				t.Errorf("%d bytes allocated per connection for 100 bytes of a line, want at most 1 KiB", per)
			}
		})
	}
}
