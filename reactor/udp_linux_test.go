package reactor

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// roundTripRaw checks that k survives the raw form recvmmsg and sendmmsg use.
func roundTripRaw(t *testing.T, fam int, k udpKey) {
	t.Helper()
	var rsa unix.RawSockaddrInet6
	n := k.putRaw(fam, &rsa)
	if (fam == unix.AF_INET) != (n == unix.SizeofSockaddrInet4) {
		t.Fatalf("putRaw on family %d wrote %d bytes", fam, n)
	}
	back, ok := keyOfRaw(&rsa)
	if !ok || back != k {
		t.Fatalf("raw round trip of %+v gave %+v", k, back)
	}
}

// TestMmsghdrLayout pins the size of mmsghdr to the kernel's.
func TestMmsghdrLayout(t *testing.T) {
	want := uintptr(unsafe.Sizeof(unix.Msghdr{})) + 4
	if a := unsafe.Alignof(unix.Msghdr{}); want%a != 0 {
		want += a - want%a
	}
	if got := unsafe.Sizeof(mmsghdr{}); got != want {
		t.Fatalf("sizeof(mmsghdr) = %d, want %d", got, want)
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(mmsghdr{}) != 64 {
		t.Fatalf("sizeof(mmsghdr) = %d on a 64-bit system, want 64", unsafe.Sizeof(mmsghdr{}))
	}
}
