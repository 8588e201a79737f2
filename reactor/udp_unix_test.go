package reactor_test

import (
	"net"
	"runtime"

	"golang.org/x/sys/unix"
)

const isLinux = runtime.GOOS == "linux"

// setMulticastIf makes c send multicast datagrams out of the interface with
// address ip.
func setMulticastIf(c *net.UDPConn, ip net.IP) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		var a [4]byte
		copy(a[:], ip.To4())
		serr = unix.SetsockoptInet4Addr(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_IF, a)
	})
	if err != nil {
		return err
	}
	return serr
}
