//go:build !linux

package reactor

import "golang.org/x/sys/unix"

// udpDefaultBatch is UDPBatch's default where there is no recvmmsg: the
// datagrams received, one recvmsg each, before the replies are sent.
const udpDefaultBatch = 32

// udpRx is the receive side of a port: one buffer. Loop goroutine only.
type udpRx struct {
	buf []byte
}

// udpTx is the send side: the addresses given to sendto, reused. Loop
// goroutine only.
type udpTx struct {
	s4 unix.SockaddrInet4
	s6 unix.SockaddrInet6
}

// initIO allocates the receive buffer. Loop goroutine.
func (u *UDPPort) initIO() { u.rx.buf = make([]byte, u.cfg.maxDatagram) }

// recvBatch receives and delivers up to a batch of datagrams, one recvmsg
// each. The system flags a datagram that did not fit (MSG_TRUNC) without
// telling its size. It reports whether the socket may hold more. Loop
// goroutine, inside a dispatch.
func (u *UDPPort) recvBatch() bool {
	for range u.cfg.batch {
		n, _, flags, from, err := unix.Recvmsg(u.fd, u.rx.buf, nil, 0)
		if err != nil {
			if !u.recvFailed(err) {
				return false
			}
			continue
		}
		k, ok := keyOfSockaddr(from)
		if !ok {
			continue
		}
		size, truncated := n, flags&unix.MSG_TRUNC != 0
		if truncated {
			size = -1
		}
		u.received(u.rx.buf[:n], size, truncated, &k)
		if !u.registered {
			return false
		}
	}
	return true
}

// sendBatch sends q's datagrams from q.next on, one system call each, until
// they are all out or the kernel refuses more: it then returns EAGAIN, and
// q.next is the first one left. A datagram that fails otherwise is
// reported and dropped. Loop goroutine, inside a dispatch.
func (u *UDPPort) sendBatch(q *udpQueue) error {
	for q.next < len(q.msgs) {
		o := &q.msgs[q.next]
		var err error
		if o.hasTo {
			err = unix.Sendto(u.fd, q.data(o), 0, o.to.sockaddr(u.fam.fam, &u.tx.s4, &u.tx.s6))
		} else {
			_, err = unix.Write(u.fd, q.data(o))
		}
		switch err {
		case nil:
			q.next++
		case unix.EAGAIN:
			return unix.EAGAIN
		case unix.EINTR:
		default:
			u.sendFailed(err, o)
			q.next++
			if !u.registered {
				return nil
			}
		}
	}
	return nil
}
