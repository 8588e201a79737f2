//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
)

// The data a flood sends: the 8-byte word at offset 8k is k, big-endian, so
// a byte lost, repeated or moved shows at once in the echo.

// fillPattern fills b with the pattern bytes from stream offset off.
func fillPattern(b []byte, off int64) {
	i := 0
	for ; i < len(b) && (off+int64(i))%8 != 0; i++ {
		b[i] = patternByte(off + int64(i))
	}
	k := uint64((off + int64(i)) / 8)
	for ; i+8 <= len(b); i += 8 {
		binary.BigEndian.PutUint64(b[i:], k)
		k++
	}
	for ; i < len(b); i++ {
		b[i] = patternByte(off + int64(i))
	}
}

// patternByte returns the pattern byte at stream offset off.
func patternByte(off int64) byte {
	return byte(uint64(off/8) >> (56 - 8*uint(off%8)))
}

// checkPattern checks that b holds the pattern bytes from stream offset off.
func checkPattern(b []byte, off int64) error {
	i := 0
	// Unaligned head, then whole words, then the tail.
	for ; i < len(b) && (off+int64(i))%8 != 0; i++ {
		if b[i] != patternByte(off+int64(i)) {
			return mismatch(b, off, i)
		}
	}
	k := uint64((off + int64(i)) / 8)
	for ; i+8 <= len(b); i += 8 {
		if binary.BigEndian.Uint64(b[i:]) != k {
			for j := i; j < i+8; j++ {
				if b[j] != patternByte(off+int64(j)) {
					return mismatch(b, off, j)
				}
			}
		}
		k++
	}
	for ; i < len(b); i++ {
		if b[i] != patternByte(off+int64(i)) {
			return mismatch(b, off, i)
		}
	}
	return nil
}

func mismatch(b []byte, off int64, i int) error {
	return fmt.Errorf("%w at byte %d: got %#02x, want %#02x", errEchoCorrupt, off+int64(i), b[i], patternByte(off+int64(i)))
}
