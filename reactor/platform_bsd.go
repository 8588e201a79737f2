//go:build darwin || freebsd

package reactor

import (
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// listenEdge says how listening sockets are registered: edge-triggered on
// kqueue, accepting until EAGAIN, since gnet's kqueue poller cannot remove a
// read filter (a level-triggered listener could not be silenced during a
// back-off).
const listenEdge = true

// Readiness as kqueue reports it: one event per filter.
func readEvent(ev netpoll.IOEvent, _ netpoll.IOFlags) bool { return ev == unix.EVFILT_READ }

func writeEvent(ev netpoll.IOEvent, _ netpoll.IOFlags) bool { return ev == unix.EVFILT_WRITE }

// hangupEvent reports that the peer closed or the socket failed.
func hangupEvent(_ netpoll.IOEvent, flags netpoll.IOFlags) bool {
	return flags&(unix.EV_EOF|unix.EV_ERROR) != 0
}

// setInterest makes the poller's registration of c match what the loop wants.
// gnet's kqueue poller cannot drop a read filter (Delete does nothing there),
// so the read filter stays once added and a paused connection is simply not
// read: with EV_CLEAR an unread socket reports new data once, it does not
// spin, and TCP pushes the peer back when the receive buffer is full. The
// write filter is added while output waits and removed after. Loop goroutine.
func (c *conn) setInterest(read, write bool) error {
	p, pa := c.l.poller, &netpoll.PollAttachment{FD: int(c.fd)}
	if read && c.lf&fRegR == 0 {
		if err := p.AddRead(pa, true); err != nil {
			return err
		}
		c.lf |= fRegR
	}
	if write && c.lf&fRegW == 0 {
		if err := p.ModReadWrite(pa, true); err != nil {
			return err
		}
		c.lf |= fRegW
	} else if !write && c.lf&fRegW != 0 {
		if err := p.ModRead(pa, true); err != nil {
			return err
		}
		c.lf &^= fRegW
	}
	return nil
}

// peerCred returns zeros: these systems have no SO_PEERCRED (getpeereid
// would give the user only).
func peerCred(int) (pid, uid, gid int) { return 0, 0, 0 }

// zombie reports false: without /proc, a zombie counts as alive.
func zombie(int) bool { return false }
