package protocol_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/transport/transporttest"
)

// strBenchReceive measures DataReceived over about 64 KiB of strings of
// strSize bytes, fed in chunks of chunkSize bytes (0: all at once); the
// bytes per second count the framed input.
func strBenchReceive(b *testing.B, k strKind, strSize, chunkSize int) {
	n := max(1, 64<<10/(strSize+4))
	strs := make([]string, n)
	for i := range strs {
		strs[i] = strings.Repeat("x", strSize)
	}
	input := strEncode(k, strs)
	pieces := transporttest.Chunks(input, chunkSize)
	p, _ := strConnect(k.plain)
	p.setMaxLength(1 << 20)
	p.ev().countOnly = true
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, piece := range pieces {
			p.DataReceived(piece)
		}
	}
	b.StopTimer()
	if got, want := p.ev().count, b.N*n; got != want {
		b.Fatalf("received %d strings, want %d", got, want)
	}
}

// strReceiveCases are the shapes the receive benchmarks run: many small
// strings per chunk, strings split across chunks, and large strings split
// across network-sized chunks.
var strReceiveCases = []struct{ strSize, chunkSize int }{
	{16, 0},
	{16, 7},
	{128, 0},
	{128, 100},
	{4096, 1500},
}

func BenchmarkIntNStringReceiver(b *testing.B) {
	for _, k := range strIntNKinds {
		for _, c := range strReceiveCases {
			if c.strSize > k.maxSend {
				continue
			}
			name := fmt.Sprintf("%s/%dB-strings/whole", k.name, c.strSize)
			if c.chunkSize > 0 {
				name = fmt.Sprintf("%s/%dB-strings/%dB-chunks", k.name, c.strSize, c.chunkSize)
			}
			b.Run(name, func(b *testing.B) { strBenchReceive(b, k, c.strSize, c.chunkSize) })
		}
	}
}

// strBenchSend measures SendString of strSize-byte strings.
func strBenchSend(b *testing.B, k strKind, strSize int) {
	p, tr := strConnect(k.plain)
	s := []byte(strings.Repeat("x", strSize))
	b.SetBytes(int64(strSize))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := p.SendString(s); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 1023 {
			tr.Clear()
		}
	}
}

func BenchmarkIntNSendString(b *testing.B) {
	for _, k := range strIntNKinds {
		for _, size := range []int{16, 4096} {
			if size > k.maxSend {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dB", k.name, size), func(b *testing.B) { strBenchSend(b, k, size) })
		}
	}
}
