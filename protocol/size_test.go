package protocol

import (
	"testing"
	"unsafe"
)

// Every idle line connection pays for its receiver: keep LineReceiver within
// the 256-byte size class.
func TestLineReceiverSize(t *testing.T) {
	if n := unsafe.Sizeof(LineReceiver{}); n > 256 {
		t.Errorf("LineReceiver is %d bytes; want at most 256", n)
	}
}
