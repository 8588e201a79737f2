//go:build freebsd

package reactor

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadID returns the calling OS thread's id (thr_self).
func threadID() int64 {
	var id int64
	_, _, _ = unix.Syscall(unix.SYS_THR_SELF, uintptr(unsafe.Pointer(&id)), 0, 0)
	return id
}

// fionwrite is FreeBSD's FIONWRITE, _IOR('f', 119, int): the bytes in a
// socket's send queue (x/sys does not define it).
const fionwrite = 0x40046677

// unacked returns the bytes in the socket's send queue (FIONWRITE).
func unacked(fd int) (int, error) { return unix.IoctlGetInt(fd, fionwrite) }
