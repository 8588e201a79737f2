//go:build darwin

package reactor

import "golang.org/x/sys/unix"

// threadID returns the calling OS thread's id (thread_selfid).
func threadID() int64 {
	id, _, _ := unix.Syscall(unix.SYS_THREAD_SELFID, 0, 0, 0)
	return int64(id)
}

// unacked returns the bytes in the socket's send queue (SO_NWRITE).
func unacked(fd int) (int, error) { return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NWRITE) }
