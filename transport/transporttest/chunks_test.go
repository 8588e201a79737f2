package transporttest_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestChunks(t *testing.T) {
	tests := []struct {
		data string
		size int
		want []string
	}{
		{"abcdefg", 1, []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"abcdefg", 2, []string{"ab", "cd", "ef", "g"}},
		{"abcdefg", 3, []string{"abc", "def", "g"}},
		{"abcdef", 3, []string{"abc", "def"}},
		{"abcdefg", 7, []string{"abcdefg"}},
		{"abcdefg", 100, []string{"abcdefg"}},
		{"abcdefg", 0, []string{"abcdefg"}},
		{"abcdefg", -1, []string{"abcdefg"}},
		{"", 1, []string{""}},
		{"", 0, []string{""}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d", tt.data, tt.size), func(t *testing.T) {
			pieces := transporttest.Chunks([]byte(tt.data), tt.size)
			got := make([]string, len(pieces))
			for i, p := range pieces {
				got[i] = string(p)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Chunks(%q, %d) = %q, want %q", tt.data, tt.size, got, tt.want)
			}
		})
	}
}

func TestChunksAppendDoesNotOverwrite(t *testing.T) {
	data := []byte("abcdef")
	for _, size := range transporttest.ChunkSizes {
		pieces := transporttest.Chunks(data, size)
		for _, p := range pieces {
			_ = append(p, 'X')
		}
		if got, want := string(data), "abcdef"; got != want {
			t.Fatalf("size %d: appending to a piece changed data to %q, want %q", size, got, want)
		}
		if got := bytes.Join(pieces, nil); !bytes.Equal(got, data) {
			t.Errorf("size %d: pieces join to %q, want %q", size, got, data)
		}
	}
}

func TestChunkSizes(t *testing.T) {
	want := []int{1, 2, 3, 0}
	if !slices.Equal(transporttest.ChunkSizes, want) {
		t.Errorf("ChunkSizes = %v, want %v", transporttest.ChunkSizes, want)
	}
}
