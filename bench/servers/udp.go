package servers

import (
	"context"
	"net"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/examples/udpecho/udpecho"
	"github.com/whirl-go/whirl/reactor"
)

// The UDP echo servers: each sends every datagram back to its sender, with
// one socket per event loop (SO_REUSEPORT), as gnet's engine does for UDP.
const (
	// GnetUDP is gnet's engine on udp://: OnTraffic takes the datagram and
	// Writes it back (one recvfrom and one sendto per datagram, one
	// datagram per readiness event).
	GnetUDP = "gnet-udp"
	// WhirlUDP is examples/udpecho with its default batch (recvmmsg and
	// sendmmsg on Linux).
	WhirlUDP = "whirl-udp"
	// WhirlUDPSingle is examples/udpecho receiving and sending one
	// datagram per system call (reactor.UDPBatch(1)).
	WhirlUDPSingle = "whirl-udp-single"
)

// UDP reports whether kind is a UDP echo server. Any goroutine.
func UDP(kind string) bool {
	switch kind {
	case GnetUDP, WhirlUDP, WhirlUDPSingle:
		return true
	}
	return false
}

func serveWhirlUDP(batch int) serveFunc {
	return func(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
		r := reactor.New(reactor.WithLoops(o.loops()))
		ports, err := udpecho.Listen(r, addr, o.loops(), reactor.UDPBatch(batch))
		if err != nil {
			return err
		}
		ready(ports[0].LocalAddr())
		return r.Run(ctx)
	}
}

// gnetUDPEcho is gnet's echo on a UDP listener.
type gnetUDPEcho struct{ gnetEcho }

// OnBoot learns the listener's address. gnet's loop goroutine.
func (e *gnetUDPEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	fd, err := eng.Dup()
	if err == nil {
		var sa unix.Sockaddr
		if sa, err = unix.Getsockname(fd); err == nil {
			if sa4, ok := sa.(*unix.SockaddrInet4); ok {
				e.addr = &net.UDPAddr{IP: net.IP(sa4.Addr[:]).To16(), Port: sa4.Port}
			} else if sa6, ok := sa.(*unix.SockaddrInet6); ok {
				e.addr = &net.UDPAddr{IP: net.IP(sa6.Addr[:]), Port: sa6.Port}
			}
		}
		unix.Close(fd)
	}
	e.berr = err
	close(e.boot)
	if err != nil {
		return gnet.Shutdown
	}
	return gnet.None
}

func serveGnetUDP(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	return runGnet(ctx, &gnetUDPEcho{}, "udp", addr, o, ready)
}
