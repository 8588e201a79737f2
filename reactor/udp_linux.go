//go:build linux

package reactor

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpDefaultBatch is UDPBatch's default on Linux: datagrams per recvmmsg
// and sendmmsg (docs/benchmarks.md, "UDP echo").
const udpDefaultBatch = 32

// mmsghdr is the kernel's struct mmsghdr, which x/sys does not define: a
// msghdr and the byte count of its datagram (the struct's alignment pads it
// as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// udpRx is the receive side of a port: one buffer slot, one address and
// one header per datagram of a batch. Loop goroutine only.
type udpRx struct {
	buf   []byte
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
}

// udpTx is the send side: headers pointing into the queue being sent.
// Loop goroutine only.
type udpTx struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
}

// initIO allocates the batch buffers. Loop goroutine.
func (u *UDPPort) initIO() {
	n, size := u.cfg.batch, u.cfg.maxDatagram
	rx := &u.rx
	rx.buf = make([]byte, n*size)
	rx.hdrs = make([]mmsghdr, n)
	rx.iovs = make([]unix.Iovec, n)
	rx.names = make([]unix.RawSockaddrInet6, n)
	for i := range rx.hdrs {
		rx.iovs[i].Base = &rx.buf[i*size]
		rx.iovs[i].SetLen(size)
		h := &rx.hdrs[i].hdr
		h.Iov = &rx.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&rx.names[i]))
	}
	tx := &u.tx
	tx.hdrs = make([]mmsghdr, n)
	tx.iovs = make([]unix.Iovec, n)
	tx.names = make([]unix.RawSockaddrInet6, n)
	for i := range tx.hdrs {
		tx.hdrs[i].hdr.Iov = &tx.iovs[i]
		tx.hdrs[i].hdr.SetIovlen(1)
	}
}

// recvBatch receives one batch (recvmmsg; recvmsg for a batch of one) and
// delivers it. MSG_TRUNC makes the kernel report a datagram's full length,
// and flag the ones that did not fit. It reports whether the socket may hold
// more. Loop goroutine, inside a dispatch.
func (u *UDPPort) recvBatch() bool {
	rx := &u.rx
	n := len(rx.hdrs)
	for i := range rx.hdrs {
		rx.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		rx.hdrs[i].hdr.Flags = 0
	}
	var got int
	var errno unix.Errno
	if n == 1 {
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(u.fd), uintptr(unsafe.Pointer(&rx.hdrs[0].hdr)), unix.MSG_TRUNC)
		got, errno = 1, e
		rx.hdrs[0].n = uint32(r)
	} else {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(u.fd), uintptr(unsafe.Pointer(&rx.hdrs[0])), uintptr(n), unix.MSG_TRUNC, 0, 0)
		got, errno = int(r), e
	}
	if errno != 0 {
		return u.recvFailed(errno)
	}
	size := u.cfg.maxDatagram
	for i := range got {
		h := &rx.hdrs[i]
		k, ok := keyOfRaw(&rx.names[i])
		if !ok {
			continue
		}
		full := int(h.n)
		off := i * size
		u.received(rx.buf[off:off+min(full, size)], full, h.hdr.Flags&unix.MSG_TRUNC != 0, &k)
		if !u.registered {
			return false
		}
	}
	return got == n
}

// sendBatch sends q's datagrams from q.next on, several per sendmmsg (one
// sendmsg for a lone datagram or a batch of one), until they are all out or
// the kernel refuses more: it then returns EAGAIN, and q.next is the first
// one left. A datagram that fails otherwise is reported and dropped. Loop
// goroutine, inside a dispatch.
func (u *UDPPort) sendBatch(q *udpQueue) error {
	tx := &u.tx
	for q.next < len(q.msgs) {
		m := min(len(q.msgs)-q.next, len(tx.hdrs))
		for i := range m {
			o := &q.msgs[q.next+i]
			iov := &tx.iovs[i]
			iov.Base = nil
			if o.n > 0 {
				iov.Base = &q.buf[o.off]
			}
			iov.SetLen(int(o.n))
			h := &tx.hdrs[i].hdr
			if o.hasTo {
				h.Namelen = o.to.putRaw(u.fam.fam, &tx.names[i])
				h.Name = (*byte)(unsafe.Pointer(&tx.names[i]))
			} else {
				h.Name, h.Namelen = nil, 0
			}
		}
		var sent int
		var errno unix.Errno
		if m == 1 {
			_, _, errno = unix.Syscall(unix.SYS_SENDMSG, uintptr(u.fd), uintptr(unsafe.Pointer(&tx.hdrs[0].hdr)), 0)
			sent = 1
		} else {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(u.fd), uintptr(unsafe.Pointer(&tx.hdrs[0])), uintptr(m), 0, 0, 0)
			sent, errno = int(r), e
		}
		switch errno {
		case 0:
			q.next += sent
		case unix.EAGAIN:
			return unix.EAGAIN
		case unix.EINTR:
		default:
			u.sendFailed(errno, &q.msgs[q.next])
			q.next++
			if !u.registered {
				return nil
			}
		}
	}
	return nil
}

// keyOfRaw converts an address the kernel wrote; ok is false for anything
// but IPv4 and IPv6.
func keyOfRaw(rsa *unix.RawSockaddrInet6) (k udpKey, ok bool) {
	switch rsa.Family {
	case unix.AF_INET:
		r4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		copy(k.ip[:12], v4Prefix[:])
		copy(k.ip[12:], r4.Addr[:])
		k.port = netPort(&r4.Port)
	case unix.AF_INET6:
		k.ip = rsa.Addr
		k.port = netPort(&rsa.Port)
		k.zone = rsa.Scope_id
	default:
		return k, false
	}
	return k, true
}

// putRaw writes k into rsa for a socket of family fam (IPv4-mapped on an
// IPv6 socket) and returns the address's length.
func (k *udpKey) putRaw(fam int, rsa *unix.RawSockaddrInet6) uint32 {
	if fam == unix.AF_INET {
		r4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		*r4 = unix.RawSockaddrInet4{Family: unix.AF_INET}
		setNetPort(&r4.Port, k.port)
		copy(r4.Addr[:], k.ip[12:])
		return unix.SizeofSockaddrInet4
	}
	*rsa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: k.ip, Scope_id: k.zone}
	setNetPort(&rsa.Port, k.port)
	return unix.SizeofSockaddrInet6
}

// netPort and setNetPort read and write a port in network byte order.
func netPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

func setNetPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}
