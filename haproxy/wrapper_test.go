package haproxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// The real addresses of a transporttest transport: the proxy's side.
var (
	proxyAddr = tcp("192.0.2.1", 12345)
	ownAddr   = tcp("127.0.0.1", 8000)
)

const payload = "hello\r\nworld, after the header\r\n"

type acceptCase struct {
	name          string
	header        []byte
	remote, local net.Addr
	proxied       bool
	check         func(t *testing.T, w *haproxy.ProtocolWrapper)
}

func acceptCases(t *testing.T) []acceptCase {
	ssl := []byte{0x01, 0, 0, 0, 0} // client used TLS, verify 0
	ssl = append(ssl, byte(proxyproto.PP2_SUBTYPE_SSL_VERSION), 0, 7)
	ssl = append(ssl, "TLSv1.3"...)
	ssl = append(ssl, byte(proxyproto.PP2_SUBTYPE_SSL_CN), 0, 11)
	ssl = append(ssl, "example.com"...)
	tlvs := []proxyproto.TLV{
		{Type: proxyproto.PP2_TYPE_ALPN, Value: []byte("h2")},
		{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("chat.example.com")},
		{Type: proxyproto.PP2_TYPE_UNIQUE_ID, Value: []byte("id-42")},
		{Type: proxyproto.PP2_TYPE_SSL, Value: ssl},
		{Type: 0xE0, Value: []byte("custom")},
	}
	return []acceptCase{
		{name: "v1 TCP4", header: []byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n"),
			remote: tcp("198.51.100.7", 56324), local: tcp("203.0.113.9", 443), proxied: true},
		{name: "v1 TCP6", header: []byte("PROXY TCP6 2001:db8::1 2001:db8::2 1024 8080\r\n"),
			remote: tcp("2001:db8::1", 1024), local: tcp("2001:db8::2", 8080), proxied: true},
		{name: "v1 UNKNOWN", header: []byte("PROXY UNKNOWN\r\n"), remote: proxyAddr, local: ownAddr},
		{name: "v1 UNKNOWN with addresses", header: []byte("PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n"), remote: proxyAddr, local: ownAddr},
		{name: "v2 TCP4", header: v2(t, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 56324), tcp("203.0.113.9", 443)),
			remote: tcp("198.51.100.7", 56324), local: tcp("203.0.113.9", 443), proxied: true},
		{name: "v2 TCP6", header: v2(t, proxyproto.PROXY, proxyproto.TCPv6, tcp("2001:db8::1", 1024), tcp("2001:db8::2", 8080)),
			remote: tcp("2001:db8::1", 1024), local: tcp("2001:db8::2", 8080), proxied: true},
		{name: "v2 UNIX stream", header: v2(t, proxyproto.PROXY, proxyproto.UnixStream, &net.UnixAddr{Net: "unix", Name: "/run/client.sock"}, &net.UnixAddr{Net: "unix", Name: "/run/app.sock"}),
			remote: &net.UnixAddr{Net: "unix", Name: "/run/client.sock"}, local: &net.UnixAddr{Net: "unix", Name: "/run/app.sock"}, proxied: true},
		{name: "v2 LOCAL", header: v2(t, proxyproto.LOCAL, proxyproto.UNSPEC, nil, nil), remote: proxyAddr, local: ownAddr},
		{name: "v2 LOCAL with addresses", header: v2(t, proxyproto.LOCAL, proxyproto.TCPv4, tcp("10.0.0.1", 1), tcp("10.0.0.2", 2)), remote: proxyAddr, local: ownAddr},
		{name: "v2 TLVs", header: v2(t, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 56324), tcp("203.0.113.9", 443), tlvs...),
			remote: tcp("198.51.100.7", 56324), local: tcp("203.0.113.9", 443), proxied: true,
			check: func(t *testing.T, w *haproxy.ProtocolWrapper) {
				if got := string(w.ALPN()); got != "h2" {
					t.Errorf("ALPN = %q, want h2", got)
				}
				if got := w.Authority(); got != "chat.example.com" {
					t.Errorf("Authority = %q", got)
				}
				if got := string(w.UniqueID()); got != "id-42" {
					t.Errorf("UniqueID = %q", got)
				}
				s, ok := w.SSL()
				if !ok || !s.ClientSSL() {
					t.Fatalf("SSL = %+v, %v", s, ok)
				}
				if v, _ := s.SSLVersion(); v != "TLSv1.3" {
					t.Errorf("SSL version = %q", v)
				}
				if cn, _ := s.ClientCN(); cn != "example.com" {
					t.Errorf("SSL CN = %q", cn)
				}
				if v, ok := w.TLV(0xE0); !ok || string(v) != "custom" {
					t.Errorf("TLV(0xE0) = %q, %v", v, ok)
				}
				if got := len(w.TLVs()); got != 5 {
					t.Errorf("%d TLVs, want 5", got)
				}
			}},
		{name: "v2 CRC32C", header: withCRC(v2(t, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 1), tcp("203.0.113.9", 2), proxyproto.TLV{Type: proxyproto.PP2_TYPE_UNIQUE_ID, Value: []byte("u")}), false),
			remote: tcp("198.51.100.7", 1), local: tcp("203.0.113.9", 2), proxied: true,
			check: func(t *testing.T, w *haproxy.ProtocolWrapper) {
				if got := string(w.UniqueID()); got != "u" {
					t.Errorf("UniqueID = %q", got)
				}
			}},
	}
}

// TestAccept feeds each header and the bytes after it at every chunk size:
// the factory gets the client's address, ConnectionMade comes first and sees
// the header's addresses, the bytes after the header arrive whole, and
// nothing is written.
func TestAccept(t *testing.T) {
	for _, tc := range acceptCases(t) {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tc.name, size), func(t *testing.T) {
				f := &testFactory{}
				c := open(t, haproxy.Wrap(f))
				c.feed(append(bytes.Clone(tc.header), payload...), size)
				if len(f.built) != 1 {
					t.Fatalf("factory built %d protocols, want 1", len(f.built))
				}
				r := f.built[0]
				if !sameAddr(f.addrs[0], tc.remote) {
					t.Errorf("BuildProtocol got %v, want %v", f.addrs[0], tc.remote)
				}
				if r.made != 1 || r.dataBeforeMade {
					t.Errorf("made %d, data before made %v", r.made, r.dataBeforeMade)
				}
				if !sameAddr(r.remote, tc.remote) || !sameAddr(r.local, tc.local) {
					t.Errorf("in ConnectionMade: remote %v local %v, want %v %v", r.remote, r.local, tc.remote, tc.local)
				}
				if got := string(r.data); got != payload {
					t.Errorf("data = %q, want %q", got, payload)
				}
				if c.tr.Disconnecting() || len(c.tr.Value()) != 0 {
					t.Errorf("disconnecting %v, wrote %q", c.tr.Disconnecting(), c.tr.Value())
				}
				if c.w.Proxied() != tc.proxied {
					t.Errorf("Proxied = %v, want %v", c.w.Proxied(), tc.proxied)
				}
				if w := haproxy.FromTransport(r.Transport()); w != c.w || w.Header() == nil || w.Wrapped() != r {
					t.Errorf("FromTransport = %p, want %p with a header", w, c.w)
				}
				if !sameAddr(c.w.ProxyAddr(), proxyAddr) {
					t.Errorf("ProxyAddr = %v", c.w.ProxyAddr())
				}
				if tc.check != nil {
					tc.check(t, c.w)
				}
				// The header timer is gone.
				c.tr.Clock().Advance(time.Minute)
				if c.tr.Disconnecting() {
					t.Error("closed after the header was accepted")
				}
				c.w.ConnectionLost(transport.ErrConnectionDone)
				if len(r.lost) != 1 || !errors.Is(r.lost[0], transport.ErrConnectionDone) {
					t.Errorf("lost = %v", r.lost)
				}
			})
		}
	}
}

type refuseCase struct {
	name  string
	input []byte
	want  error
	// at is the number of bytes after which the refusal must have come,
	// fed one byte at a time (0: only after all of input).
	at int
}

func refuseCases(t *testing.T) []refuseCase {
	good := v2(t, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 1), tcp("203.0.113.9", 2))
	badVersion := bytes.Clone(good)
	badVersion[12] = 0x31
	tooLarge := bytes.Clone(good)
	tooLarge[14], tooLarge[15] = 0xff, 0xff
	badTLV := append(bytes.Clone(good), 0x05, 0x00, 0x09, 'x') // says 9 bytes, has 1
	badTLV[15] += 4
	return []refuseCase{
		{name: "http request", input: []byte("GET / HTTP/1.1\r\n\r\n"), want: haproxy.ErrMalformedHeader, at: 1},
		{name: "almost v1", input: []byte("PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), want: haproxy.ErrMalformedHeader, at: 5},
		{name: "v1 no space", input: []byte("PROXYTCP4\r\n"), want: haproxy.ErrMalformedHeader, at: 6},
		{name: "almost v2", input: []byte("\r\n\r\n\x00\r\nQUIT\r\x21"), want: haproxy.ErrMalformedHeader, at: 12},
		{name: "v1 bad address", input: []byte("PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 bad port", input: []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 extra token", input: []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 family mismatch", input: []byte("PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 LF without CR", input: []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 unknown protocol", input: []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), want: haproxy.ErrMalformedHeader},
		{name: "v1 too long", input: []byte("PROXY UNKNOWN " + strings.Repeat("f", 200)), want: haproxy.ErrHeaderTooLarge, at: 107},
		{name: "v2 bad version", input: badVersion, want: haproxy.ErrMalformedHeader},
		{name: "v2 too large", input: tooLarge, want: haproxy.ErrHeaderTooLarge, at: 16},
		{name: "v2 truncated TLV", input: badTLV, want: haproxy.ErrMalformedHeader},
		{name: "v2 bad CRC32C", input: withCRC(good, true), want: haproxy.ErrMalformedHeader},
		{name: "v2 PROXY UNSPEC", input: v2(t, proxyproto.PROXY, proxyproto.UNSPEC, nil, nil), want: haproxy.ErrMalformedHeader},
	}
}

// TestRefuse checks that a bad header closes the connection with
// CloseWithError and a typed reason, at every chunk size, as early as the
// bytes show it; the factory is never asked and nothing is written.
func TestRefuse(t *testing.T) {
	for _, tc := range refuseCases(t) {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", tc.name, size), func(t *testing.T) {
				f := &testFactory{}
				c := open(t, haproxy.Wrap(f))
				c.feed(append(bytes.Clone(tc.input), "after"...), size)
				if err := c.tr.CloseError(); !errors.Is(err, tc.want) {
					t.Fatalf("CloseError = %v, want %v", err, tc.want)
				}
				if len(f.addrs) != 0 {
					t.Errorf("factory asked %d times", len(f.addrs))
				}
				if len(c.tr.Value()) != 0 {
					t.Errorf("wrote %q", c.tr.Value())
				}
				c.w.ConnectionLost(transport.Aborted(tc.want))
			})
		}
		if tc.at > 0 {
			t.Run(tc.name+"/early", func(t *testing.T) {
				c := open(t, haproxy.Wrap(&testFactory{}))
				c.feed(tc.input[:tc.at-1], 1)
				if c.tr.Disconnecting() {
					t.Fatalf("refused before byte %d", tc.at)
				}
				c.feed(tc.input[tc.at-1:tc.at], 1)
				if !errors.Is(c.tr.CloseError(), tc.want) {
					t.Fatalf("after %d bytes: CloseError = %v, want %v", tc.at, c.tr.CloseError(), tc.want)
				}
			})
		}
	}
}

func TestHeaderTimeout(t *testing.T) {
	header := []byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n")
	tests := []struct {
		name    string
		opts    []haproxy.Option
		sent    []byte
		advance time.Duration
		want    error // nil: still open
	}{
		{name: "nothing sent", sent: nil, advance: haproxy.DefaultHeaderTimeout, want: haproxy.ErrHeaderTimeout},
		{name: "nothing sent, just before", sent: nil, advance: haproxy.DefaultHeaderTimeout - time.Millisecond},
		{name: "part of a header", sent: header[:20], advance: haproxy.DefaultHeaderTimeout, want: haproxy.ErrHeaderTimeout},
		{name: "own timeout", opts: []haproxy.Option{haproxy.WithHeaderTimeout(time.Second)}, sent: header[:3], advance: time.Second, want: haproxy.ErrHeaderTimeout},
		{name: "no timeout", opts: []haproxy.Option{haproxy.WithHeaderTimeout(-1)}, sent: header[:3], advance: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &testFactory{}
			c := open(t, haproxy.Wrap(f, tc.opts...))
			c.feed(tc.sent, 1)
			c.tr.Clock().Advance(tc.advance)
			err := c.tr.CloseError()
			if tc.want == nil {
				if c.tr.Disconnecting() {
					t.Fatalf("closed: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), fmt.Sprintf("%d bytes received", len(tc.sent))) {
				t.Fatalf("CloseError = %v, want %v", err, tc.want)
			}
			if len(f.addrs) != 0 || len(c.tr.Value()) != 0 {
				t.Errorf("factory asked %d times, wrote %q", len(f.addrs), c.tr.Value())
			}
		})
	}
	if got := haproxy.Wrap(&testFactory{}).HeaderTimeout(); got != 3*time.Second {
		t.Errorf("default HeaderTimeout = %v", got)
	}
}

// TestFINDuringHeader: a peer that closes before any byte (a health check)
// is closed quietly; one that closes inside the header is refused.
func TestFINDuringHeader(t *testing.T) {
	c := open(t, haproxy.Wrap(&testFactory{}))
	c.w.ReadConnectionLost()
	if !c.tr.Disconnecting() || c.tr.CloseError() != nil {
		t.Errorf("empty: disconnecting %v, CloseError %v", c.tr.Disconnecting(), c.tr.CloseError())
	}
	c.tr.Clock().Advance(time.Minute) // the timer is gone: no second close

	c = open(t, haproxy.Wrap(&testFactory{}))
	c.feed([]byte("PROXY TCP4 1.2"), 1)
	c.w.ReadConnectionLost()
	if err := c.tr.CloseError(); !errors.Is(err, haproxy.ErrHeaderTruncated) {
		t.Errorf("partial: CloseError = %v", err)
	}
}

func TestFactoryRefuses(t *testing.T) {
	f := &testFactory{refuse: true}
	c := open(t, haproxy.Wrap(f))
	c.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\nhi"), 0)
	if len(f.addrs) != 1 || !sameAddr(f.addrs[0], tcp("198.51.100.7", 56324)) {
		t.Fatalf("factory asked with %v", f.addrs)
	}
	if !c.tr.Aborted() || len(c.tr.Value()) != 0 {
		t.Errorf("aborted %v, wrote %q", c.tr.Aborted(), c.tr.Value())
	}
	c.w.ConnectionLost(transport.ErrConnectionAborted) // no protocol to tell: no panic
	if c.w.Wrapped() != nil {
		t.Error("Wrapped is not nil")
	}
}

// TestPauseInConnectionMade: bytes that came with the header wait while the
// protocol paused reading in ConnectionMade, and come when it resumes.
func TestPauseInConnectionMade(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprintf("chunk=%d", size), func(t *testing.T) {
			f := &testFactory{onMade: func(r *recorder) { r.Transport().PauseProducing() }}
			c := open(t, haproxy.Wrap(f))
			all := []byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n" + payload)
			n := c.feed(all, size)
			r := f.built[0]
			if len(r.data) != 0 || !c.w.ReadPaused() {
				t.Fatalf("delivered %q while paused (paused %v)", r.data, c.w.ReadPaused())
			}
			r.Transport().ResumeProducing()
			c.w.ReadingResumed() // the reactor calls it on resume
			// What the paused transport did not read yet comes next.
			c.feed(all[n:], size)
			if got := string(r.data); got != payload {
				t.Errorf("data = %q, want %q", got, payload)
			}
		})
	}
}

func TestCloseInConnectionMade(t *testing.T) {
	f := &testFactory{onMade: func(r *recorder) { r.Transport().LoseConnection() }}
	c := open(t, haproxy.Wrap(f))
	c.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\nnot for you"), 0)
	if r := f.built[0]; len(r.data) != 0 {
		t.Errorf("delivered %q after LoseConnection", r.data)
	}
}

// TestCloseWithErrorNamesClient: the reason the reactor logs names the
// client; errors.Is still finds the protocol's error.
func TestCloseWithErrorNamesClient(t *testing.T) {
	errBad := errors.New("bad command")
	f := &testFactory{}
	c := open(t, haproxy.Wrap(f))
	c.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n"), 0)
	f.built[0].Transport().CloseWithError(errBad)
	err := c.tr.CloseError()
	if !errors.Is(err, errBad) || !strings.Contains(err.Error(), "client 198.51.100.7:56324") {
		t.Errorf("CloseError = %v", err)
	}
}

// halfCloser records half-close callbacks.
type halfCloser struct {
	recorder
	readLost, writeLost int
}

func (h *halfCloser) ReadConnectionLost()  { h.readLost++ }
func (h *halfCloser) WriteConnectionLost() { h.writeLost++ }

func TestHalfClose(t *testing.T) {
	header := []byte("PROXY TCP4 198.51.100.7 203.0.113.9 56324 443\r\n")

	// Half-closeable: the FIN is passed on, the connection stays open.
	h := &halfCloser{}
	f := factoryFunc(func(net.Addr) protocol.Protocol { return h })
	c := open(t, haproxy.Wrap(f))
	c.feed(header, 0)
	c.w.ReadConnectionLost()
	c.w.WriteConnectionLost()
	if h.readLost != 1 || h.writeLost != 1 || c.tr.Disconnecting() {
		t.Errorf("read lost %d, write lost %d, disconnecting %v", h.readLost, h.writeLost, c.tr.Disconnecting())
	}

	// Not half-closeable: the FIN closes, even with the transport registered
	// as its own producer.
	rf := &testFactory{}
	c = open(t, haproxy.Wrap(rf))
	c.feed(header, 0)
	tr := rf.built[0].Transport()
	if err := tr.RegisterProducer(tr, true); err != nil {
		t.Fatal(err)
	}
	c.w.ReadConnectionLost()
	if !c.tr.Disconnected() {
		t.Error("the FIN did not close the connection")
	}

	// Not half-closeable, another producer registered: it does not hold the
	// close up either.
	rf = &testFactory{}
	c = open(t, haproxy.Wrap(rf))
	c.feed(header, 0)
	if err := rf.built[0].Transport().RegisterProducer(nopProducer{}, true); err != nil {
		t.Fatal(err)
	}
	c.w.ReadConnectionLost()
	if !c.tr.Disconnected() {
		t.Error("a producer held up the close after the FIN")
	}
}

// TestProducerHoldsClose: a producer the protocol registers holds a
// LoseConnection up, and unregistering lets it finish.
func TestProducerHoldsClose(t *testing.T) {
	rf := &testFactory{}
	c := open(t, haproxy.Wrap(rf))
	c.feed([]byte("PROXY UNKNOWN\r\n"), 0)
	tr := rf.built[0].Transport()
	if err := tr.RegisterProducer(nopProducer{}, false); err != nil {
		t.Fatal(err)
	}
	if err := tr.RegisterProducer(nopProducer{}, false); !errors.Is(err, transport.ErrProducerRegistered) {
		t.Errorf("second RegisterProducer = %v", err)
	}
	tr.LoseConnection()
	if c.tr.Disconnected() {
		t.Fatal("closed while a producer holds it")
	}
	tr.UnregisterProducer()
	if !c.tr.Disconnected() {
		t.Error("not closed after UnregisterProducer")
	}
}

type nopProducer struct{}

func (nopProducer) PauseProducing()  {}
func (nopProducer) ResumeProducing() {}
func (nopProducer) StopProducing()   {}

type factoryFunc func(net.Addr) protocol.Protocol

func (f factoryFunc) BuildProtocol(a net.Addr) protocol.Protocol { return f(a) }
func (factoryFunc) StartFactory()                                {}
func (factoryFunc) StopFactory()                                 {}

// lines is a LineReceiver that records its lines.
type lines struct {
	protocol.LineReceiver
	got []string
}

func (l *lines) LineReceived(line []byte) { l.got = append(l.got, string(line)) }

// TestLineReceiver: a framing protocol behind the wrapper gets its lines
// whatever the segments, the first one in the header's segment.
func TestLineReceiver(t *testing.T) {
	for _, size := range transporttest.ChunkSizes {
		l := &lines{}
		c := open(t, haproxy.Wrap(factoryFunc(func(net.Addr) protocol.Protocol { return l })))
		c.feed(append(v2(t, proxyproto.PROXY, proxyproto.TCPv4, tcp("198.51.100.7", 1), tcp("203.0.113.9", 2)), "one\r\ntwo\r\nthree\r\n"...), size)
		if got := strings.Join(l.got, ","); got != "one,two,three" {
			t.Errorf("chunk=%d: lines %q", size, got)
		}
	}
}

// TestPoliciesSeeClients: policies wrapped by haproxy.Wrap count clients,
// and FromTransport finds the header through their wrapper.
func TestPoliciesSeeClients(t *testing.T) {
	rf := &testFactory{}
	f := haproxy.Wrap(policies.LimitConnectionsByPeer(rf, 1))
	a := open(t, f)
	a.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 1 443\r\n"), 0)
	b := open(t, f)
	b.feed([]byte("PROXY TCP4 198.51.100.8 203.0.113.9 1 443\r\n"), 0)
	c := open(t, f)
	c.feed([]byte("PROXY TCP4 198.51.100.7 203.0.113.9 2 443\r\n"), 0)
	if a.tr.Disconnecting() || b.tr.Disconnecting() {
		t.Error("two clients from one proxy address were refused")
	}
	if !c.tr.Disconnecting() {
		t.Error("a second connection of one client was admitted")
	}
	if len(rf.built) != 2 {
		t.Fatalf("built %d", len(rf.built))
	}
	if w := haproxy.FromTransport(rf.built[0].Transport()); w != a.w {
		t.Errorf("FromTransport through policies = %p, want %p", w, a.w)
	}
	if haproxy.FromTransport(transporttest.New()) != nil {
		t.Error("FromTransport found a wrapper behind a plain transport")
	}
}

func TestStartStopFactory(t *testing.T) {
	rf := &testFactory{}
	f := haproxy.Wrap(rf)
	f.StopFactory() // unmatched: nothing
	f.StartFactory()
	f.StartFactory()
	f.StopFactory()
	if rf.starts.Load() != 1 || rf.stops.Load() != 0 {
		t.Errorf("starts %d stops %d", rf.starts.Load(), rf.stops.Load())
	}
	f.StopFactory()
	if rf.stops.Load() != 1 || f.Wrapped() != rf {
		t.Errorf("stops %d", rf.stops.Load())
	}
}

// TestPassThrough checks the Transport methods reach the real transport.
func TestPassThrough(t *testing.T) {
	rf := &testFactory{}
	c := open(t, haproxy.Wrap(rf))
	c.feed([]byte("PROXY UNKNOWN\r\n"), 0)
	tr := rf.built[0].Transport()
	if _, err := tr.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteSequence([][]byte{[]byte("b"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if got := string(c.tr.Value()); got != "abc" {
		t.Errorf("wrote %q", got)
	}
	_ = tr.SetTCPNoDelay(true)
	_ = tr.SetTCPKeepAlive(time.Second, time.Second, 3)
	tr.SetWriteWatermarks(100, 10)
	if !c.tr.NoDelay() || tr.Loop() != c.tr.Loop() || !tr.Connected() || tr.Disconnecting() {
		t.Error("socket options or state not passed through")
	}
	if hi, lo := c.tr.WriteWatermarks(); hi != 100 || lo != 10 {
		t.Errorf("watermarks %d %d", hi, lo)
	}
	tr.LoseWriteConnection()
	if !c.tr.WriteClosed() {
		t.Error("LoseWriteConnection not passed through")
	}
	tr.StopProducing()
	if !c.tr.Disconnecting() {
		t.Error("StopProducing not passed through")
	}
	c2 := open(t, haproxy.Wrap(rf))
	c2.feed([]byte("PROXY UNKNOWN\r\n"), 0)
	rf.built[1].Transport().AbortConnection()
	if !c2.tr.Aborted() {
		t.Error("AbortConnection not passed through")
	}
}
