package reactor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// udpEcho sends every datagram back to its sender and records what the
// port reports.
type udpEcho struct {
	protocol.DatagramBase
	started, stopped atomic.Int32
	refused          atomic.Int32
	mu               sync.Mutex
	tooLarge         []int
	last             net.Addr
}

func (e *udpEcho) StartProtocol() { e.started.Add(1) }
func (e *udpEcho) StopProtocol()  { e.stopped.Add(1) }

func (e *udpEcho) DatagramReceived(data []byte, addr net.Addr) {
	if string(data) == "panic" {
		panic("udpEcho: asked to")
	}
	e.mu.Lock()
	e.last = addr
	e.mu.Unlock()
	e.Transport().WriteTo(data, addr)
}

func (e *udpEcho) DatagramTooLarge(size int, addr net.Addr) {
	e.mu.Lock()
	e.tooLarge = append(e.tooLarge, size)
	e.mu.Unlock()
}

func (e *udpEcho) ConnectionRefused() { e.refused.Add(1) }

func listenUDP(t testing.TB, r *reactor.Reactor, addr string, p protocol.DatagramProtocol, opts ...reactor.UDPOption) *reactor.UDPPort {
	t.Helper()
	u, err := r.ListenUDP(addr, p, opts...)
	if err != nil {
		t.Fatalf("ListenUDP: %v", err)
	}
	return u
}

func dialUDP(t testing.TB, u *reactor.UDPPort) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, u.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatalf("DialUDP: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// udpRoundTrip sends msg on c and checks that the same bytes come back.
func udpRoundTrip(t testing.TB, c *net.UDPConn, msg, buf []byte) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(buf[:n], msg) {
		t.Fatalf("echo: got %d bytes, want %d (%q...)", n, len(msg), buf[:min(n, 16)])
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestUDPEcho(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []reactor.UDPOption
	}{
		{"default", nil},
		{"one datagram per system call", []reactor.UDPOption{reactor.UDPBatch(1)}},
		{"batch of 4", []reactor.UDPOption{reactor.UDPBatch(4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reactor.New(reactor.WithLoops(2))
			p := &udpEcho{}
			u := listenUDP(t, r, "127.0.0.1:0", p, tc.opts...)
			running(t, r)
			buf := make([]byte, 70000)
			for i := 0; i < 3; i++ {
				c := dialUDP(t, u)
				udpRoundTrip(t, c, []byte("hello"), buf)
				udpRoundTrip(t, c, []byte{}, buf)
				udpRoundTrip(t, c, bytes.Repeat([]byte("x"), 65507), buf) // the IPv4 maximum
			}
			// Several in flight on each of several sockets (a window small
			// enough for the kernel's default buffers, which drop
			// datagrams beyond them): every one comes back.
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				c := dialUDP(t, u)
				wg.Add(1)
				go func() {
					defer wg.Done()
					const total, window = 50, 5
					got := make(map[string]bool)
					c.SetDeadline(time.Now().Add(5 * time.Second))
					sent := 0
					for ; sent < window; sent++ {
						fmt.Fprintf(c, "%d-%d", i, sent)
					}
					b := make([]byte, 64)
					for len(got) < total {
						n, err := c.Read(b)
						if err != nil {
							t.Errorf("socket %d: %d echoes of %d: %v", i, len(got), total, err)
							return
						}
						got[string(b[:n])] = true
						if sent < total {
							fmt.Fprintf(c, "%d-%d", i, sent)
							sent++
						}
					}
				}()
			}
			wg.Wait()
			if n := p.started.Load(); n != 1 {
				t.Fatalf("StartProtocol ran %d times, want 1", n)
			}
		})
	}
}

func TestUDPEchoIPv6(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	u, err := r.ListenUDP("[::1]:0", &udpEcho{})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	running(t, r)
	c := dialUDP(t, u)
	udpRoundTrip(t, c, []byte("over IPv6"), make([]byte, 64))
	if err := u.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); !errors.Is(err, transport.ErrInvalidAddress) {
		t.Fatalf("WriteTo an IPv4 address on an IPv6-only socket: %v, want ErrInvalidAddress", err)
	}
}

// TestUDPDatagramLargerThanBuffer: a datagram that does not fit is reported
// with its full size and never delivered cut short; the port goes on.
func TestUDPDatagramLargerThanBuffer(t *testing.T) {
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			logs := &syncBuffer{}
			r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(zerolog.New(logs).Level(zerolog.WarnLevel)))
			p := &udpEcho{}
			u := listenUDP(t, r, "127.0.0.1:0", p, reactor.UDPMaxDatagram(1024), reactor.UDPBatch(batch))
			running(t, r)
			c := dialUDP(t, u)
			buf := make([]byte, 4096)
			udpRoundTrip(t, c, bytes.Repeat([]byte("a"), 1024), buf) // fits exactly
			if _, err := c.Write(bytes.Repeat([]byte("b"), 3000)); err != nil {
				t.Fatal(err)
			}
			udpRoundTrip(t, c, []byte("after"), buf) // not the cut datagram
			p.mu.Lock()
			got := append([]int(nil), p.tooLarge...)
			p.mu.Unlock()
			want := 3000
			if !isLinux {
				want = -1 // the size is not told
			}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("DatagramTooLarge sizes %v, want [%d]", got, want)
			}
			if l := logs.String(); !strings.Contains(l, "larger than the receive buffer") || !strings.Contains(l, c.LocalAddr().String()) {
				t.Fatalf("log %q: want the warning with the peer", l)
			}
		})
	}
}

func TestUDPWriteToFromAnotherGoroutine(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p := &udpEcho{}
	u := listenUDP(t, r, "127.0.0.1:0", p)
	running(t, r)
	c := dialUDP(t, u)
	udpRoundTrip(t, c, []byte("hi"), make([]byte, 16))
	const n = 200
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				if err := u.WriteTo([]byte(fmt.Sprintf("g%d-%03d", g, i)), c.LocalAddr()); err != nil {
					t.Errorf("WriteTo: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	last := map[byte]int{}
	b := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < n; i++ {
		m, err := c.Read(b)
		if err != nil {
			t.Fatalf("%d datagrams of %d: %v", i, n, err)
		}
		var g byte
		var seq int
		fmt.Sscanf(string(b[:m]), "g%c-%d", &g, &seq)
		if prev, ok := last[g]; ok && seq != prev+1 {
			t.Fatalf("goroutine %c: datagram %d after %d: out of order", g, seq, prev)
		}
		last[g] = seq
	}
}

func TestUDPWritesBeforeRun(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	u := listenUDP(t, r, "127.0.0.1:0", &udpEcho{}, reactor.UDPSendQueue(1000))
	if err := u.WriteTo(make([]byte, 500), peer.LocalAddr()); err != nil {
		t.Fatalf("WriteTo before Run: %v", err)
	}
	if err := u.WriteTo(make([]byte, 500), peer.LocalAddr()); !errors.Is(err, transport.ErrSendQueueFull) {
		t.Fatalf("WriteTo past the queue's bound: %v, want ErrSendQueueFull", err)
	}
	if n := u.DroppedDatagrams(); n != 1 {
		t.Fatalf("DroppedDatagrams = %d, want 1", n)
	}
	running(t, r)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1000)
	if n, _, err := peer.ReadFrom(b); err != nil || n != 500 {
		t.Fatalf("read %d bytes, %v; want the datagram written before Run", n, err)
	}
	// The queue drained: writes go through again.
	waitFor(t, "the queue to drain", func() bool { return u.WriteTo([]byte("x"), peer.LocalAddr()) == nil })
}

func TestUDPConnected(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	p := &udpEcho{}
	u := listenUDP(t, r, "127.0.0.1:0", p)
	running(t, r)
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := u.Write([]byte("x")); !errors.Is(err, transport.ErrNotConnected) {
		t.Fatalf("Write before Connect: %v, want ErrNotConnected", err)
	}
	if err := u.Connect(peer.LocalAddr()); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if err := u.Connect(peer.LocalAddr()); !errors.Is(err, transport.ErrAlreadyConnected) {
		t.Fatalf("second Connect: %v, want ErrAlreadyConnected", err)
	}
	if got := u.RemoteAddr().String(); got != peer.LocalAddr().String() {
		t.Fatalf("RemoteAddr %s, want %s", got, peer.LocalAddr())
	}
	if err := u.Write([]byte("to the peer")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	b := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := peer.ReadFrom(b)
	if err != nil || string(b[:n]) != "to the peer" {
		t.Fatalf("peer read %q, %v", b[:n], err)
	}
	other := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	if err := u.WriteTo([]byte("x"), other); !errors.Is(err, transport.ErrInvalidAddress) {
		t.Fatalf("WriteTo another address when connected: %v, want ErrInvalidAddress", err)
	}
	// The peer's echoes come in; a stranger's datagrams do not.
	stranger := dialUDP(t, u)
	stranger.Write([]byte("stranger"))
	peer.WriteTo([]byte("ping"), u.LocalAddr())
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = peer.ReadFrom(b)
	if err != nil || string(b[:n]) != "ping" {
		t.Fatalf("peer read %q, %v; want its echo", b[:n], err)
	}
	p.mu.Lock()
	last := p.last.String()
	p.mu.Unlock()
	if last != peer.LocalAddr().String() {
		t.Fatalf("last sender %s, want only the peer %s", last, peer.LocalAddr())
	}
	// The peer goes: its system refuses the next datagram.
	peer.Close()
	for i := 0; i < 50 && p.refused.Load() == 0; i++ {
		u.Write([]byte("anyone?"))
		time.Sleep(10 * time.Millisecond)
	}
	if p.refused.Load() == 0 {
		t.Fatal("ConnectionRefused not called after the peer closed")
	}
}

// TestUDPProtocolOnTwoPorts: StartProtocol and StopProtocol are ref-counted
// over the protocol's ports, which share one loop.
func TestUDPProtocolOnTwoPorts(t *testing.T) {
	r := reactor.New(reactor.WithLoops(4))
	p := &udpEcho{}
	u1 := listenUDP(t, r, "127.0.0.1:0", p)
	u2 := listenUDP(t, r, "127.0.0.1:0", p)
	other := listenUDP(t, r, "127.0.0.1:0", &udpEcho{})
	if u1.Loop() != u2.Loop() {
		t.Fatal("the two ports of one protocol run on different loops")
	}
	if u1.Loop() == other.Loop() {
		t.Fatal("another protocol's port was not given the next loop")
	}
	running(t, r)
	buf := make([]byte, 16)
	udpRoundTrip(t, dialUDP(t, u1), []byte("one"), buf)
	udpRoundTrip(t, dialUDP(t, u2), []byte("two"), buf)
	if n := p.started.Load(); n != 1 {
		t.Fatalf("StartProtocol ran %d times, want 1", n)
	}
	u1.StopListening()
	if n := p.stopped.Load(); n != 0 {
		t.Fatalf("StopProtocol ran with a port left")
	}
	udpRoundTrip(t, dialUDP(t, u2), []byte("still"), buf)
	u2.StopListening()
	if n := p.stopped.Load(); n != 1 {
		t.Fatalf("StopProtocol ran %d times, want 1", n)
	}
	// Listening again starts it again.
	u3 := listenUDP(t, r, "127.0.0.1:0", p)
	udpRoundTrip(t, dialUDP(t, u3), []byte("again"), buf)
	if n := p.started.Load(); n != 2 {
		t.Fatalf("StartProtocol ran %d times, want 2", n)
	}
}

func TestUDPStopListening(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	p := &udpEcho{}
	u := listenUDP(t, r, "127.0.0.1:0", p)
	running(t, r)
	udpRoundTrip(t, dialUDP(t, u), []byte("x"), make([]byte, 8))
	if err := u.StopListening(); err != nil {
		t.Fatal(err)
	}
	if err := u.StopListening(); err != nil {
		t.Fatal(err)
	}
	if p.stopped.Load() != 1 {
		t.Fatal("StopProtocol not called")
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	for name, err := range map[string]error{
		"WriteTo":   u.WriteTo([]byte("x"), to),
		"Write":     u.Write([]byte("x")),
		"Connect":   u.Connect(to),
		"JoinGroup": u.JoinGroup(net.IPv4(239, 1, 2, 3), nil),
		"TTL":       u.SetMulticastTTL(2),
	} {
		if !errors.Is(err, transport.ErrClosed) {
			t.Errorf("%s after StopListening: %v, want ErrClosed", name, err)
		}
	}
}

// udpStopper stops its own port from DatagramReceived.
type udpStopper struct {
	protocol.DatagramBase
	stopped chan struct{}
}

func (s *udpStopper) DatagramReceived(data []byte, addr net.Addr) {
	s.Transport().WriteTo([]byte("bye"), addr) // sent before the close
	s.Transport().StopListening()
	if err := s.Transport().WriteTo(data, addr); !errors.Is(err, transport.ErrClosed) {
		panic(fmt.Sprintf("WriteTo after StopListening: %v", err))
	}
}

func (s *udpStopper) StopProtocol() { close(s.stopped) }

func TestUDPStopListeningFromCallback(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	s := &udpStopper{stopped: make(chan struct{})}
	u := listenUDP(t, r, "127.0.0.1:0", s)
	running(t, r)
	// An unconnected client: "b" may reach the port after it closed, and
	// the ICMP error that brings must not be reported to the client's read
	// (a connected UDP socket reports it, before the "bye" queued for it).
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := u.LocalAddr()
	c.WriteTo([]byte("a"), to)
	c.WriteTo([]byte("b"), to)
	select {
	case <-s.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("StopProtocol not called")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 8)
	if n, _, err := c.ReadFrom(b); err != nil || string(b[:n]) != "bye" {
		t.Fatalf("read %q, %v; want the datagram written before StopListening", b[:n], err)
	}
}

func TestUDPStopStopsPorts(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p := &udpEcho{}
	u := listenUDP(t, r, "127.0.0.1:0", p)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	udpRoundTrip(t, dialUDP(t, u), []byte("x"), make([]byte, 8))
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.stopped.Load() != 1 {
		t.Fatal("Stop did not stop the protocol")
	}
	if err := u.WriteTo([]byte("x"), dialUDP(t, u).LocalAddr()); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("WriteTo after Stop: %v, want ErrClosed", err)
	}
	if _, err := r.ListenUDP("127.0.0.1:0", p); !errors.Is(err, reactor.ErrStopped) {
		t.Fatalf("ListenUDP after Stop: %v, want ErrStopped", err)
	}
}

func TestUDPStopBeforeRun(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	p := &udpEcho{}
	u := listenUDP(t, r, "127.0.0.1:0", p)
	if err := u.StopListening(); err != nil {
		t.Fatal(err)
	}
	running(t, r)
	time.Sleep(20 * time.Millisecond)
	if p.started.Load() != 0 || p.stopped.Load() != 0 {
		t.Fatalf("a port stopped before Run started (%d) or stopped (%d) its protocol", p.started.Load(), p.stopped.Load())
	}
}

func TestUDPPanicRecovered(t *testing.T) {
	logs := &syncBuffer{}
	r := reactor.New(reactor.WithLoops(1), reactor.WithLogger(zerolog.New(logs)))
	u := listenUDP(t, r, "127.0.0.1:0", &udpEcho{})
	running(t, r)
	c := dialUDP(t, u)
	c.Write([]byte("panic"))
	udpRoundTrip(t, c, []byte("still serving"), make([]byte, 32))
	if !strings.Contains(logs.String(), "udpEcho: asked to") {
		t.Fatalf("the panic was not logged: %q", logs.String())
	}
}

// TestUDPOddAddresses: every address WriteTo or Connect cannot use is an
// error matching ErrInvalidAddress, never a panic.
func TestUDPOddAddresses(t *testing.T) {
	r := reactor.New(reactor.WithLoops(1))
	u := listenUDP(t, r, "127.0.0.1:0", &udpEcho{})
	running(t, r)
	var nilUDP *net.UDPAddr
	for _, tc := range []struct {
		name string
		addr net.Addr
	}{
		{"nil", nil},
		{"nil *UDPAddr", nilUDP},
		{"TCP address", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}},
		{"Unix address", &net.UnixAddr{Name: "/tmp/x", Net: "unixgram"}},
		{"no IP", &net.UDPAddr{Port: 80}},
		{"5-byte IP", &net.UDPAddr{IP: net.IP{1, 2, 3, 4, 5}, Port: 80}},
		{"port 0", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}},
		{"port 70000", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 70000}},
		{"negative port", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: -1}},
		{"IPv6 on an IPv4 socket", &net.UDPAddr{IP: net.IPv6loopback, Port: 80}},
		{"zone on IPv4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80, Zone: "lo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := u.WriteTo([]byte("x"), tc.addr); !errors.Is(err, transport.ErrInvalidAddress) {
				t.Errorf("WriteTo: %v, want ErrInvalidAddress", err)
			}
			if err := u.Connect(tc.addr); !errors.Is(err, transport.ErrInvalidAddress) {
				t.Errorf("Connect: %v, want ErrInvalidAddress", err)
			}
		})
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	if err := u.WriteTo(make([]byte, 65508), to); !errors.Is(err, transport.ErrMessageTooLong) {
		t.Fatalf("WriteTo 65508 bytes: %v, want ErrMessageTooLong", err)
	}
	if err := u.JoinGroup(net.IPv4(10, 0, 0, 1), nil); !errors.Is(err, transport.ErrInvalidAddress) {
		t.Fatalf("JoinGroup of a unicast address: %v, want ErrInvalidAddress", err)
	}
	if err := u.JoinGroup(net.ParseIP("ff02::1"), nil); !errors.Is(err, transport.ErrInvalidAddress) {
		t.Fatalf("JoinGroup of an IPv6 group on an IPv4 socket: %v, want ErrInvalidAddress", err)
	}
}

// TestUDPMulticast joins a group on the loopback interface and receives a
// datagram sent to it, when the system routes multicast over loopback.
func TestUDPMulticast(t *testing.T) {
	lo := loopbackInterface(t)
	r := reactor.New(reactor.WithLoops(1))
	p := &udpEcho{}
	u := listenUDP(t, r, "0.0.0.0:0", p, reactor.UDPListenMultiple(true))
	running(t, r)
	group := net.IPv4(239, 255, 77, 77)
	if err := u.JoinGroup(group, lo); err != nil {
		t.Skipf("cannot join %v on %s here: %v", group, lo.Name, err)
	}
	if err := u.SetMulticastLoopback(true); err != nil {
		t.Fatalf("SetMulticastLoopback: %v", err)
	}
	if err := u.SetMulticastTTL(1); err != nil {
		t.Fatalf("SetMulticastTTL: %v", err)
	}
	sender, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	port := u.LocalAddr().(*net.UDPAddr).Port
	dst := &net.UDPAddr{IP: group, Port: port}
	if err := setMulticastIf(sender, net.IPv4(127, 0, 0, 1)); err != nil {
		t.Skipf("cannot send multicast over loopback here: %v", err)
	}
	b := make([]byte, 64)
	for i := 0; i < 20; i++ {
		if _, err := sender.WriteTo([]byte("to the group"), dst); err != nil {
			t.Skipf("cannot send to %v over loopback here: %v", dst, err)
		}
		sender.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := sender.ReadFrom(b); err == nil {
			if string(b[:n]) != "to the group" {
				t.Fatalf("echo %q", b[:n])
			}
			if err := u.LeaveGroup(group, lo); err != nil {
				t.Fatalf("LeaveGroup: %v", err)
			}
			return
		}
	}
	t.Skipf("joined %v on %s, but a datagram sent to it over loopback never arrived: this system does not route multicast over loopback", group, lo.Name)
}

func loopbackInterface(t *testing.T) *net.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skipf("no interfaces: %v", err)
	}
	for i := range ifs {
		if ifs[i].Flags&net.FlagLoopback != 0 && ifs[i].Flags&net.FlagUp != 0 {
			return &ifs[i]
		}
	}
	t.Skip("no loopback interface")
	return nil
}
