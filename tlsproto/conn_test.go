package tlsproto_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/internal/tlstest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/tlsproto"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// recorder echoes and records what a wrapped protocol saw.
type recorder struct {
	protocol.Base
	made, hs int
	got      []byte
	lost     error
}

func (r *recorder) ConnectionMade()             { r.made++ }
func (r *recorder) HandshakeCompleted()         { r.hs++ }
func (r *recorder) ConnectionLost(reason error) { r.lost = reason }
func (r *recorder) DataReceived(data []byte) {
	r.got = append(r.got, data...)
	r.Transport().Write(data)
}

// peer is a crypto/tls client talking to a Conn over a transporttest
// transport: the test's goroutine plays the loop, moving bytes between the
// two and advancing the fake clock (which runs the Conn's CallSoon).
type peer struct {
	t     *testing.T
	tr    *transporttest.Transport
	conn  *tlsproto.Conn
	tc    *tls.Conn
	wire  net.Conn    // the test's end of the pipe
	in    chan []byte // bytes the client sent
	out   chan []byte // bytes for the client
	chunk int         // DataReceived piece size
}

func newPeer(t *testing.T, p protocol.Protocol, scfg, ccfg *tls.Config, opts *tlsproto.Options, chunk int) *peer {
	t.Helper()
	tr := transporttest.NewWithLoop(transporttest.NewLoop(transporttest.NewClock()))
	conn := tlsproto.NewServer(p, scfg, opts)
	protocol.MakeConnection(conn, tr)
	clientEnd, wire := net.Pipe()
	pr := &peer{t: t, tr: tr, conn: conn, tc: tls.Client(clientEnd, ccfg), wire: wire, in: make(chan []byte, 1024), out: make(chan []byte, 1024), chunk: chunk}
	go func() {
		for {
			b := make([]byte, 4096)
			n, err := wire.Read(b)
			if n > 0 {
				pr.in <- b[:n]
			}
			if err != nil {
				close(pr.in)
				return
			}
		}
	}()
	go func() {
		for b := range pr.out {
			if _, err := wire.Write(b); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { clientEnd.Close(); wire.Close(); close(pr.out) })
	return pr
}

// step moves what is waiting each way once and runs the loop's due calls.
func (pr *peer) step() {
	for {
		select {
		case b, ok := <-pr.in:
			if !ok {
				return
			}
			for _, piece := range transporttest.Chunks(b, pr.chunk) {
				pr.conn.DataReceived(piece)
			}
			continue
		default:
		}
		break
	}
	pr.tr.Clock().Advance(0)
	if v := pr.tr.Value(); len(v) > 0 {
		pr.tr.Clear()
		pr.out <- v
	}
}

// until steps until cond holds.
func (pr *peer) until(what string, cond func() bool) {
	pr.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			pr.t.Fatalf("timed out waiting for %s", what)
		}
		pr.step()
		time.Sleep(100 * time.Microsecond)
	}
}

// clientDo runs fn on a goroutine of its own (the client blocks on the
// pipe) and returns a function that reports whether it is done, and its
// error.
func clientDo(fn func() error) func() (bool, error) {
	var mu sync.Mutex
	done, ferr := false, error(nil)
	go func() {
		err := fn()
		mu.Lock()
		done, ferr = true, err
		mu.Unlock()
	}()
	return func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return done, ferr
	}
}

// TestByteAtATime pins the crypto/tls behaviour the package relies on: after
// the handshake, a record fed in pieces (down to one byte) waits inside
// tls.Conn across reads that would block, and data arriving with the end of
// the input is delivered first. TLS 1.2 and 1.3, every chunk size.
func TestByteAtATime(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, chunk := range transporttest.ChunkSizes {
			t.Run(strconv.Itoa(int(ver))+"/"+strconv.Itoa(chunk), func(t *testing.T) {
				rec := &recorder{}
				ccfg := certs.ClientConfig()
				ccfg.MaxVersion = ver
				pr := newPeer(t, rec, certs.ServerConfig(), ccfg, nil, chunk)
				msg := bytes.Repeat([]byte("0123456789abcdef"), 2000) // two records and more
				echo := make([]byte, 0, 2*len(msg))
				check := clientDo(func() error {
					if err := pr.tc.Handshake(); err != nil {
						return err
					}
					for range 2 {
						if _, err := pr.tc.Write(msg); err != nil {
							return err
						}
					}
					buf := make([]byte, len(msg))
					for len(echo) < 2*len(msg) {
						n, err := pr.tc.Read(buf)
						echo = append(echo, buf[:n]...)
						if err != nil {
							return err
						}
					}
					return pr.tc.CloseWrite()
				})
				pr.until("the echo", func() bool { done, _ := check(); return done })
				if _, err := check(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(echo, append(append([]byte{}, msg...), msg...)) || !bytes.Equal(rec.got, echo) {
					t.Fatalf("echo of %d bytes, protocol got %d, want %d", len(echo), len(rec.got), 2*len(msg))
				}
				if rec.made != 1 || rec.hs != 1 {
					t.Fatalf("ConnectionMade %d, HandshakeCompleted %d", rec.made, rec.hs)
				}
				st, ok := tlsproto.ConnectionState(rec.Transport())
				if !ok || st.Version != ver {
					t.Fatalf("state %v %x", ok, st.Version)
				}
				// The client's close_notify: the Conn closes (not HalfCloseable).
				pr.until("the close", func() bool { return pr.tr.Disconnecting() })
				if err := pr.tr.CloseError(); err != nil {
					t.Fatalf("closed with %v", err)
				}
				pr.conn.ConnectionLost(transport.ErrConnectionDone)
				if !errors.Is(rec.lost, transport.ErrConnectionDone) {
					t.Fatalf("ConnectionLost(%v)", rec.lost)
				}
			})
		}
	}
}

// TestLimiterAndTimeout: with one place, a second handshake waits (without
// a goroutine) until the first ends; a handshake that does not finish in
// time fails with ErrHandshakeTimeout, and its protocol is never connected.
func TestLimiterAndTimeout(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	lim := tlsproto.NewLimiter(1)
	opts := &tlsproto.Options{HandshakeTimeout: time.Second, Limiter: lim}
	hello := clientHello(t, certs.ClientConfig())

	clock := transporttest.NewClock()
	loop := transporttest.NewLoop(clock)
	var recs [2]*recorder
	var trs [2]*transporttest.Transport
	for i := range trs {
		recs[i] = &recorder{}
		trs[i] = transporttest.NewWithLoop(loop)
		c := tlsproto.NewServer(recs[i], certs.ServerConfig(), opts)
		protocol.MakeConnection(c, trs[i])
		c.DataReceived(hello[:3]) // no goroutine before the first record is whole
		if lim.Active() != i {
			t.Fatalf("a partial ClientHello took a place")
		}
		c.DataReceived(hello[3:])
	}
	if lim.Active() != 1 || lim.Waiting() != 1 {
		t.Fatalf("active %d, waiting %d; want 1, 1", lim.Active(), lim.Waiting())
	}
	// The first answers (ServerHello...) and waits for a client that never
	// comes back.
	deadline := time.Now().Add(5 * time.Second)
	for len(trs[0].Value()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	clock.Advance(2 * time.Second)
	for _, tr := range trs {
		if err := tr.CloseError(); !errors.Is(err, tlsproto.ErrHandshakeTimeout) || !errors.Is(err, tlsproto.ErrHandshakeFailed) {
			t.Fatalf("close reason %v, want ErrHandshakeTimeout", err)
		}
	}
	for lim.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if lim.Active() != 0 || lim.Waiting() != 0 {
		t.Fatalf("after the timeouts: active %d, waiting %d", lim.Active(), lim.Waiting())
	}
	for _, r := range recs {
		if r.made != 0 {
			t.Fatal("a protocol whose handshake failed was connected")
		}
	}
}

// clientHello returns the first flight of a crypto/tls client.
func clientHello(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Client(a, cfg).Handshake()
	buf := make([]byte, 16<<10)
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestGarbage: bytes that are not TLS fail the handshake at once.
func TestGarbage(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	tr := transporttest.New()
	rec := &recorder{}
	c := tlsproto.NewServer(rec, certs.ServerConfig(), nil)
	protocol.MakeConnection(c, tr)
	c.DataReceived([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	deadline := time.Now().Add(5 * time.Second)
	for tr.CloseError() == nil && time.Now().Before(deadline) {
		tr.Clock().Advance(0)
		time.Sleep(time.Millisecond)
	}
	if err := tr.CloseError(); !errors.Is(err, tlsproto.ErrHandshakeFailed) {
		t.Fatalf("close reason %v", err)
	}
	if rec.made != 0 {
		t.Fatal("connected")
	}
}

// TestPendingWrites: what a protocol writes after StartTLS, before the
// handshake completed, goes out encrypted after it.
func TestPendingWrites(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	tr := transporttest.New()
	rec := &recorder{}
	protocol.MakeConnection(rec, tr)
	tr.Write([]byte("in clear\n"))
	c := tlsproto.Layer(tr, tr, certs.ServerConfig(), true, nil)
	c.Start(rec)
	if _, err := c.Write([]byte("early")); err != nil {
		t.Fatal(err)
	}
	if got := string(tr.Value()); got != "in clear\n" {
		t.Fatalf("wrote %q before the handshake", got)
	}
	if _, ok := c.TLSConnectionState(); ok {
		t.Fatal("TLS state before the handshake")
	}
	if err := c.StartTLS(nil, true); !errors.Is(err, transport.ErrTLSStarted) {
		t.Fatalf("StartTLS on a Conn: %v", err)
	}
}
