package transport

import "net"

// DatagramTransport is a datagram (UDP) socket as its protocol sees it:
// Twisted's IUDPTransport and IMulticastTransport. There is no connection:
// every datagram carries its own address, unless the socket is connected.
//
// Every method is safe to call from any goroutine. Datagrams are sent in the
// order of the calls that wrote them; each call is one datagram.
type DatagramTransport interface {
	// WriteTo sends p as one datagram to addr, a *net.UDPAddr holding an
	// IP address (no host names). p is copied: the caller may reuse it at
	// once. It returns an error matching ErrInvalidAddress for an address
	// the socket cannot send to (nil on an unconnected socket, another
	// type, IPv6 on an IPv4 socket, an address other than the peer on a
	// connected one), ErrMessageTooLong for a datagram over the UDP
	// maximum, ErrSendQueueFull when the datagram was dropped because too
	// much output waits already, and ErrClosed once the transport is
	// closed. An error of a datagram the kernel refuses later is logged, not
	// returned. Any goroutine.
	WriteTo(p []byte, addr net.Addr) error

	// Write sends p as one datagram to the peer of a connected socket (see
	// Connect), with WriteTo's errors; ErrNotConnected when the socket is
	// not connected. Any goroutine.
	Write(p []byte) error

	// Connect connects the socket to addr, a *net.UDPAddr holding an IP
	// address: it then receives only from addr, Write sends there, and the
	// errors the peer's system reports (ICMP port unreachable) reach the
	// protocol's ConnectionRefused. A socket connects once:
	// ErrAlreadyConnected after that. Any goroutine.
	Connect(addr net.Addr) error

	// RemoteAddr is the peer of a connected socket, or nil. Any goroutine.
	RemoteAddr() net.Addr

	// LocalAddr is the bound address, with the port the system chose for
	// port 0. Any goroutine.
	LocalAddr() net.Addr

	// JoinGroup joins the multicast group on the interface ifi (nil: the
	// one the system picks); datagrams sent to the group and the socket's
	// port are then received. Any goroutine.
	JoinGroup(group net.IP, ifi *net.Interface) error

	// LeaveGroup leaves a group joined with JoinGroup. Any goroutine.
	LeaveGroup(group net.IP, ifi *net.Interface) error

	// SetMulticastLoopback sets whether multicast datagrams this socket
	// sends are looped back to the sending host (the system's default is
	// on). Any goroutine.
	SetMulticastLoopback(on bool) error

	// SetMulticastTTL sets the time-to-live (hop limit) of multicast
	// datagrams this socket sends (the system's default is 1). Any
	// goroutine.
	SetMulticastTTL(ttl int) error

	// StopListening closes the socket: no datagram is delivered or sent
	// after it returns, and later writes fail with ErrClosed. Any goroutine.
	StopListening() error

	// Loop returns the loop that runs the protocol's callbacks. Any
	// goroutine.
	Loop() Loop
}
