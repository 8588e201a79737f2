package reactor

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// udpKey is a UDP peer as the loop handles it: comparable, no pointers, no
// allocation. An IPv4 address is held IPv4-mapped (::ffff:a.b.c.d).
type udpKey struct {
	ip   [16]byte
	port uint16
	zone uint32 // IPv6 scope (interface index); 0 for none
}

var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

func (k *udpKey) isV4() bool { return [12]byte(k.ip[:12]) == v4Prefix }

// udpAddr builds the *net.UDPAddr of k: a 4-byte IP for IPv4 (also when it
// arrived IPv4-mapped on a dual-stack socket), the interface's name as the
// zone (its number when it has no name).
func (k *udpKey) udpAddr() *net.UDPAddr {
	if k.isV4() {
		ip := make(net.IP, net.IPv4len)
		copy(ip, k.ip[12:])
		return &net.UDPAddr{IP: ip, Port: int(k.port)}
	}
	ip := make(net.IP, net.IPv6len)
	copy(ip, k.ip[:])
	a := &net.UDPAddr{IP: ip, Port: int(k.port)}
	if k.zone != 0 {
		if ifi, err := net.InterfaceByIndex(int(k.zone)); err == nil {
			a.Zone = ifi.Name
		} else {
			a.Zone = strconv.FormatUint(uint64(k.zone), 10)
		}
	}
	return a
}

// keyOfSockaddr converts a received or bound address; ok is false for
// anything but IPv4 and IPv6.
func keyOfSockaddr(sa unix.Sockaddr) (k udpKey, ok bool) {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		copy(k.ip[:12], v4Prefix[:])
		copy(k.ip[12:], sa.Addr[:])
		k.port = uint16(sa.Port)
		return k, true
	case *unix.SockaddrInet6:
		k.ip = sa.Addr
		k.port = uint16(sa.Port)
		k.zone = sa.ZoneId
		return k, true
	}
	return k, false
}

// sockaddr converts k for a socket of family fam (an IPv4 key on an IPv6
// socket stays IPv4-mapped). The result is one of the two values given, so
// that a sender reuses its own and allocates nothing.
func (k *udpKey) sockaddr(fam int, s4 *unix.SockaddrInet4, s6 *unix.SockaddrInet6) unix.Sockaddr {
	if fam == unix.AF_INET {
		s4.Port = int(k.port)
		copy(s4.Addr[:], k.ip[12:])
		return s4
	}
	s6.Port = int(k.port)
	s6.Addr = k.ip
	s6.ZoneId = k.zone
	return s6
}

// udpFamily is what a socket can send to: its address family and, for
// IPv6, whether it is IPv6-only (else IPv4 peers are reached IPv4-mapped).
type udpFamily struct {
	fam    int
	v6only bool
}

// maxUDPPayload is the largest datagram UDP carries over IPv4 (65535 minus
// the IPv4 and UDP headers); over IPv6 it is 20 bytes more.
const (
	maxUDPPayload4 = 65507
	maxUDPPayload6 = 65527
)

// zoneIndex resolves an IPv6 zone: an interface name, or its index.
var zoneIndex = func(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}

// destKey checks addr as a destination for a socket of family f and
// converts it. Errors match transport.ErrInvalidAddress; it never panics,
// whatever addr holds. Any goroutine.
func (f udpFamily) destKey(addr net.Addr) (udpKey, error) {
	var k udpKey
	ua, ok := addr.(*net.UDPAddr)
	switch {
	case addr == nil:
		return k, fmt.Errorf("%w: no address", transport.ErrInvalidAddress)
	case !ok:
		return k, fmt.Errorf("%w: a %T, want a *net.UDPAddr", transport.ErrInvalidAddress, addr)
	case ua == nil:
		return k, fmt.Errorf("%w: a nil *net.UDPAddr", transport.ErrInvalidAddress)
	case ua.Port <= 0 || ua.Port > 65535:
		return k, fmt.Errorf("%w: port %d", transport.ErrInvalidAddress, ua.Port)
	}
	k.port = uint16(ua.Port)
	if ip4 := ua.IP.To4(); ip4 != nil {
		if ua.Zone != "" {
			return k, fmt.Errorf("%w: zone %q on an IPv4 address", transport.ErrInvalidAddress, ua.Zone)
		}
		if f.fam == unix.AF_INET6 && f.v6only {
			return k, fmt.Errorf("%w: IPv4 address %s on an IPv6-only socket", transport.ErrInvalidAddress, ip4)
		}
		copy(k.ip[:12], v4Prefix[:])
		copy(k.ip[12:], ip4)
		return k, nil
	}
	if len(ua.IP) != net.IPv6len {
		return k, fmt.Errorf("%w: IP address of %d bytes", transport.ErrInvalidAddress, len(ua.IP))
	}
	if f.fam == unix.AF_INET {
		return k, fmt.Errorf("%w: IPv6 address %s on an IPv4 socket", transport.ErrInvalidAddress, ua.IP)
	}
	copy(k.ip[:], ua.IP)
	if ua.Zone != "" {
		z, err := zoneIndex(ua.Zone)
		if err != nil {
			return k, fmt.Errorf("%w: zone %q: %w", transport.ErrInvalidAddress, ua.Zone, err)
		}
		k.zone = z
	}
	return k, nil
}

// maxPayload is the largest datagram the socket can send to k.
func (f udpFamily) maxPayload(k *udpKey) int {
	if k.isV4() {
		return maxUDPPayload4
	}
	return maxUDPPayload6
}

// addrCacheSize bounds the peers whose *net.UDPAddr a port keeps: a busy
// port's regular peers cost no allocation per datagram. A full cache is
// emptied and fills again (a port with more peers than this allocates for
// some datagrams, never holds more).
const addrCacheSize = 4096

type addrCache struct {
	m map[udpKey]*net.UDPAddr
}

// get returns the address of k, made once per peer while it stays in the
// cache. Loop goroutine.
func (c *addrCache) get(k *udpKey) *net.UDPAddr {
	if a, ok := c.m[*k]; ok {
		return a
	}
	if c.m == nil {
		c.m = make(map[udpKey]*net.UDPAddr)
	} else if len(c.m) >= addrCacheSize {
		clear(c.m)
	}
	a := k.udpAddr()
	c.m[*k] = a
	return a
}
