package reactor

import (
	"errors"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// FuzzUDPAddr drives the datagram path's address handling with arbitrary
// addresses: destKey (what WriteTo and Connect accept) on IPv4, IPv6-only
// and dual-stack sockets must return a key or an ErrInvalidAddress error and
// never panic; an accepted address must survive the trip to the kernel's
// form and back (what the socket sends to is the peer a reply comes from),
// and the *net.UDPAddr made of the key must be accepted again as the same
// key.
func FuzzUDPAddr(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, 9, "", uint8(0))
	f.Add([]byte(net.IPv6loopback), 53, "", uint8(1))
	f.Add([]byte(net.ParseIP("fe80::1")), 5353, "1", uint8(2))
	f.Add([]byte(net.ParseIP("fe80::1")), 5353, "no-such-interface", uint8(2))
	f.Add([]byte(net.IPv4(10, 1, 2, 3)), 65535, "", uint8(1))
	f.Add([]byte{1, 2, 3}, 0, "", uint8(3))
	f.Add([]byte{}, -1, "", uint8(4))
	f.Fuzz(func(t *testing.T, ip []byte, port int, zone string, kind uint8) {
		var addr net.Addr
		switch kind % 6 {
		case 0, 1, 2:
			addr = &net.UDPAddr{IP: ip, Port: port, Zone: zone}
		case 3:
			addr = &net.TCPAddr{IP: ip, Port: port, Zone: zone}
		case 4:
			addr = nil
		case 5:
			addr = (*net.UDPAddr)(nil)
		}
		for _, fam := range []udpFamily{{fam: unix.AF_INET}, {fam: unix.AF_INET6, v6only: true}, {fam: unix.AF_INET6}} {
			k, err := fam.destKey(addr)
			if err != nil {
				if !errors.Is(err, transport.ErrInvalidAddress) {
					t.Fatalf("destKey(%v) on %+v: %v, not ErrInvalidAddress", addr, fam, err)
				}
				continue
			}
			if fam.fam == unix.AF_INET && !k.isV4() {
				t.Fatalf("destKey(%v) gave an IPv6 key on an IPv4 socket", addr)
			}
			if fam.v6only && k.isV4() {
				t.Fatalf("destKey(%v) gave an IPv4 key on an IPv6-only socket", addr)
			}
			var s4 unix.SockaddrInet4
			var s6 unix.SockaddrInet6
			back, ok := keyOfSockaddr(k.sockaddr(fam.fam, &s4, &s6))
			if !ok || back != k {
				t.Fatalf("%v: key %+v became %+v on the way to the kernel and back", addr, k, back)
			}
			roundTripRaw(t, fam.fam, k)
			ua := k.udpAddr()
			if ua.Zone != "" && k.zone != 0 {
				// A zone is named after its interface, which may have
				// gone; the number is what counts.
				if z, err := zoneIndex(ua.Zone); err != nil || z != k.zone {
					continue
				}
			}
			again, err := fam.destKey(ua)
			if err != nil || again != k {
				t.Fatalf("%v: the address %v made of key %+v is taken back as %+v, %v", addr, ua, k, again, err)
			}
			var cache addrCache
			if a := cache.get(&k); a.String() != ua.String() || cache.get(&k) != a {
				t.Fatalf("cache: %v, want %v, the same each time", a, ua)
			}
		}
	})
}
