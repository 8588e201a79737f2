package protocol_test

import (
	"fmt"
	"testing"
)

func BenchmarkNetstringReceiver(b *testing.B) {
	for _, c := range strReceiveCases {
		name := fmt.Sprintf("%dB-strings/whole", c.strSize)
		if c.chunkSize > 0 {
			name = fmt.Sprintf("%dB-strings/%dB-chunks", c.strSize, c.chunkSize)
		}
		b.Run(name, func(b *testing.B) { strBenchReceive(b, strNetstring, c.strSize, c.chunkSize) })
	}
}

func BenchmarkNetstringSendString(b *testing.B) {
	for _, size := range []int{16, 4096} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { strBenchSend(b, strNetstring, size) })
	}
}
