package reactor

import (
	"testing"
	"unsafe"
)

// Every idle connection pays for a conn: keep it in the 128-byte size class
// (rarely used state belongs in connExt).
func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > 128 {
		t.Errorf("conn is %d bytes; want at most 128 (move rarely used state to connExt)", n)
	}
}
