package policies

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// LimitTotalConnections wraps f so that at most limit of its connections are
// open at once: Twisted's LimitTotalConnectionsFactory. A connection past the
// limit gets the protocol overflow returns (one that writes "busy" and loses
// the connection, say), or is refused when overflow is nil or returns nil.
// Overflow connections are not counted and do not go through f: make them
// short-lived. A connection f itself refuses does not count either. A
// limit of 0 or less means no limit.
//
// Places are taken in BuildProtocol and given back when the connection is
// lost; the count is safe when several loops build at once. Any goroutine may
// call LimitTotalConnections.
func LimitTotalConnections(f factory.Factory, limit int, overflow func() protocol.Protocol) *WrappingFactory {
	if limit <= 0 {
		return NewWrappingFactory(f, nil)
	}
	return NewWrappingFactory(f, &totalLimit{conns: connCounter{limit: int64(limit)}, overflow: overflow})
}

type totalLimit struct {
	NopHooks
	conns    connCounter
	overflow func() protocol.Protocol
}

// Build admits the connection if there is a place left. Loop goroutine.
func (l *totalLimit) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, Hooks) {
	if l.conns.acquire() {
		if p := buildCounted(next, l.conns.release); p != nil {
			return p, l
		}
		return nil, nil
	}
	if l.overflow != nil {
		return l.overflow(), nil
	}
	return nil, nil
}

// ConnectionLost gives the connection's place back. Loop goroutine.
func (l *totalLimit) ConnectionLost(*ProtocolWrapper, error) { l.conns.release() }

// connCounter counts connections against a limit (0 or less: none). Safe
// from any goroutine.
type connCounter struct {
	limit int64
	n     atomic.Int64
}

// acquire takes a place and reports whether there was one.
func (c *connCounter) acquire() bool {
	if c.limit <= 0 {
		c.n.Add(1)
		return true
	}
	for {
		n := c.n.Load()
		if n >= c.limit {
			return false
		}
		if c.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives a place back.
func (c *connCounter) release() { c.n.Add(-1) }

// buildCounted calls next for a connection that took a place, and calls
// release if next refuses the connection or panics.
func buildCounted(next func() protocol.Protocol, release func()) (p protocol.Protocol) {
	defer func() {
		if p == nil {
			release()
		}
	}()
	return next()
}

// LimitConnectionsByPeer wraps f so that each peer has at most maxPerPeer
// connections open at once; more are refused (BuildProtocol returns nil).
// This is Twisted's LimitConnectionsByPeer, but keyed by the remote IP
// address alone (never IP and port), working for IPv4 and IPv6, and with an
// IPv4-mapped IPv6 address (::ffff:192.0.2.1) counted as its IPv4 address.
// An IPv6 zone is part of the key.
//
// The IP is taken from *net.TCPAddr, *net.UDPAddr and *net.IPAddr, and from
// any other net.Addr by parsing its String() as IP:port, host:port or a bare
// IP.
// An address that holds no IP (a Unix socket's) is keyed by its host part or
// whole String(): those that print the same are counted together.
//
// Counts are taken in BuildProtocol and given back when the connection is
// lost; a peer's entry is deleted when its count reaches zero, so memory is
// bounded by the connections open. Safe when several loops build at once. A
// maxPerPeer of 0 or less means no limit. Any goroutine may call
// LimitConnectionsByPeer.
func LimitConnectionsByPeer(f factory.Factory, maxPerPeer int) *WrappingFactory {
	if maxPerPeer <= 0 {
		return NewWrappingFactory(f, nil)
	}
	return NewWrappingFactory(f, &peerLimit{max: maxPerPeer, counts: make(map[peerKey]int)})
}

type peerLimit struct {
	max int

	mu     sync.Mutex
	counts map[peerKey]int // open connections per peer; no zero entries
}

// peerKey identifies a peer: its IP, or, for an address without one, its
// printed host.
type peerKey struct {
	ip    netip.Addr
	other string
}

// Build admits the connection if its peer is under the limit. Loop goroutine.
func (l *peerLimit) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, Hooks) {
	key := keyOf(addr)
	l.mu.Lock()
	if l.counts[key] >= l.max {
		l.mu.Unlock()
		return nil, nil
	}
	l.counts[key]++
	l.mu.Unlock()
	if p := buildCounted(next, func() { l.release(key) }); p != nil {
		return p, &peerConn{l: l, key: key}
	}
	return nil, nil
}

func (l *peerLimit) release(key peerKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.counts[key] - 1; n > 0 {
		l.counts[key] = n
	} else {
		delete(l.counts, key)
	}
}

// peerConn gives a connection's count back to its peer.
type peerConn struct {
	NopHooks
	l   *peerLimit
	key peerKey
}

// ConnectionLost gives the count back. Loop goroutine.
func (c *peerConn) ConnectionLost(*ProtocolWrapper, error) { c.l.release(c.key) }

// keyOf returns the peer key of addr.
func keyOf(addr net.Addr) peerKey {
	switch a := addr.(type) {
	case nil:
		return peerKey{}
	case *net.TCPAddr:
		if a != nil {
			if ip, ok := ipKey(a.IP, a.Zone); ok {
				return ip
			}
		}
	case *net.UDPAddr:
		if a != nil {
			if ip, ok := ipKey(a.IP, a.Zone); ok {
				return ip
			}
		}
	case *net.IPAddr:
		if a != nil {
			if ip, ok := ipKey(a.IP, a.Zone); ok {
				return ip
			}
		}
	}
	host := addr.String()
	if ap, err := netip.ParseAddrPort(host); err == nil {
		return peerKey{ip: ap.Addr().Unmap()}
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return peerKey{ip: ip.Unmap()}
	}
	return peerKey{other: host}
}

func ipKey(ip net.IP, zone string) (peerKey, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return peerKey{}, false
	}
	a = a.Unmap()
	if a.Is6() {
		a = a.WithZone(zone)
	}
	return peerKey{ip: a}, true
}
