//go:build !race

package protocol_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestStringReceiversAllocs pins 0 allocations per received string in steady
// state, for strings that arrive whole in a chunk and for strings split
// across chunks, and 0 per SendString.
func TestStringReceiversAllocs(t *testing.T) {
	strs := make([]string, 64)
	for i := range strs {
		strs[i] = strings.Repeat(string(rune('a'+i%26)), i%20)
	}
	for _, k := range strKinds {
		input := strEncode(k, strs)
		for _, size := range []int{0, 1, 7, 100} {
			t.Run(fmt.Sprintf("%s/receive in chunks of %d", k.name, size), func(t *testing.T) {
				p, _ := strConnect(k.plain)
				p.ev().countOnly = true
				pieces := transporttest.Chunks(input, size)
				allocs := testing.AllocsPerRun(100, func() {
					for _, piece := range pieces {
						p.DataReceived(piece)
					}
				})
				if allocs != 0 {
					t.Errorf("%.2f allocations per %d strings, want 0", allocs, len(strs))
				}
				if got, want := p.ev().count, 101*len(strs); got != want {
					t.Errorf("received %d strings, want %d", got, want)
				}
			})
		}
		t.Run(k.name+"/SendString", func(t *testing.T) {
			p, tr := strConnect(k.plain)
			s := []byte("hello, world")
			_ = p.SendString(s)
			tr.Clear()
			allocs := testing.AllocsPerRun(100, func() {
				if err := p.SendString(s); err != nil {
					t.Fatal(err)
				}
				tr.Clear()
			})
			if allocs != 0 {
				t.Errorf("%.2f allocations per SendString, want 0", allocs)
			}
		})
	}
}
