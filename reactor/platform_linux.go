//go:build linux

package reactor

import (
	"bytes"
	"os"
	"strconv"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// listenEdge says how listening sockets are registered: level-triggered on
// Linux, one accept per readiness event (as gnet's acceptor does: a burst is
// taken over several poller rounds, and a lone connection costs no accept
// that ends in EAGAIN); a back-off removes the listener from the poller.
const listenEdge = false

// threadID returns the calling OS thread's id.
func threadID() int64 { return int64(unix.Gettid()) }

// Readiness as epoll reports it: one event carries every condition.
func readEvent(ev netpoll.IOEvent, _ netpoll.IOFlags) bool {
	return ev&(unix.EPOLLIN|unix.EPOLLPRI|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
}

func writeEvent(ev netpoll.IOEvent, _ netpoll.IOFlags) bool {
	return ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0
}

// hangupEvent reports that the peer closed or the socket failed: the socket
// must be read until it says which (a short read does not mean it is empty).
func hangupEvent(ev netpoll.IOEvent, _ netpoll.IOFlags) bool {
	return ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
}

// setInterest makes the poller's registration of c match what the loop wants:
// read events unless reading is paused, write events while output waits.
// epoll can drop read interest, so a paused connection wakes nobody. Every
// registration is edge-triggered. Loop goroutine.
func (c *conn) setInterest(read, write bool) error {
	have := c.lf & (fRegR | fRegW)
	want := uint16(0)
	if read {
		want |= fRegR
	}
	if write {
		want |= fRegW
	}
	if have == want {
		return nil
	}
	p, pa := c.l.poller, &netpoll.PollAttachment{FD: int(c.fd)}
	var err error
	switch want {
	case 0:
		err = p.Delete(pa.FD)
	case fRegR:
		if have == 0 {
			err = p.AddRead(pa, true)
		} else {
			err = p.ModRead(pa, true)
		}
	case fRegR | fRegW:
		if have == 0 {
			err = p.AddReadWrite(pa, true)
		} else {
			err = p.ModReadWrite(pa, true)
		}
	case fRegW:
		if have&fRegR != 0 {
			if err = p.Delete(pa.FD); err != nil {
				break
			}
		}
		err = p.AddWrite(pa, true)
	}
	if err != nil {
		return err
	}
	c.lf = c.lf&^(fRegR|fRegW) | want
	return nil
}

// unacked returns the bytes in the socket's send queue: sent but not
// acknowledged by the peer, or not sent yet.
func unacked(fd int) (int, error) { return unix.IoctlGetInt(fd, unix.SIOCOUTQ) }

// peerCred returns a UNIX socket peer's process credentials (SO_PEERCRED),
// or zeros.
func peerCred(fd int) (pid, uid, gid int) {
	c, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, 0, 0
	}
	return int(c.Pid), int(c.Uid), int(c.Gid)
}

// zombie reports whether pid is a process that exited and was not reaped
// yet (state Z in /proc/PID/stat).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "PID (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
