package reactor_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/tlstest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/tlsproto"
)

func testCerts(t testing.TB) *tlstest.Certs {
	t.Helper()
	c, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsEvents records what TLS protocols saw, for the test's goroutine.
type tlsEvents struct {
	mu       sync.Mutex
	made     int
	lost     []error
	hs       int
	state    tls.ConnectionState
	stateOK  bool
	received []byte
	lostCh   chan error
}

func newTLSEvents() *tlsEvents { return &tlsEvents{lostCh: make(chan error, 16)} }

// tlsEcho echoes and records its events.
type tlsEcho struct {
	protocol.Base
	ev *tlsEvents
}

func (e *tlsEcho) ConnectionMade() {
	st, ok := tlsproto.ConnectionState(e.Transport())
	e.ev.mu.Lock()
	e.ev.made++
	e.ev.state, e.ev.stateOK = st, ok
	e.ev.mu.Unlock()
}

func (e *tlsEcho) HandshakeCompleted() {
	e.ev.mu.Lock()
	e.ev.hs++
	e.ev.mu.Unlock()
}

func (e *tlsEcho) DataReceived(data []byte) {
	e.ev.mu.Lock()
	e.ev.received = append(e.ev.received, data...)
	e.ev.mu.Unlock()
	e.Transport().Write(data)
}

func (e *tlsEcho) ConnectionLost(reason error) {
	e.ev.mu.Lock()
	e.ev.lost = append(e.ev.lost, reason)
	e.ev.mu.Unlock()
	e.ev.lostCh <- reason
}

func (ev *tlsEvents) factory() factory.Factory {
	return factory.ForProtocol(func() protocol.Protocol { return &tlsEcho{ev: ev} })
}

func (ev *tlsEvents) snapshot() (made, hs, lost int) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.made, ev.hs, len(ev.lost)
}

func waitTLSLost(t *testing.T, ev *tlsEvents) error {
	t.Helper()
	select {
	case err := <-ev.lostCh:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ConnectionLost not called")
		return nil
	}
}

func listenTLS(t *testing.T, r *reactor.Reactor, f factory.Factory, cfg *tls.Config, opts ...reactor.Option) *reactor.Port {
	t.Helper()
	p, err := r.ListenTLS("127.0.0.1:0", f, cfg, opts...)
	if err != nil {
		t.Fatalf("ListenTLS: %v", err)
	}
	return p
}

func dialTLS(t *testing.T, p *reactor.Port, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", p.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSEchoGoClient(t *testing.T) {
	certs := testCerts(t)
	for _, v := range []struct {
		name string
		ver  uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			ev := newTLSEvents()
			r := reactor.New(reactor.WithLoops(2))
			scfg := certs.ServerConfig()
			scfg.NextProtos = []string{"echo/1"}
			p := listenTLS(t, r, ev.factory(), scfg)
			running(t, r)
			ccfg := certs.ClientConfig()
			ccfg.MinVersion, ccfg.MaxVersion = v.ver, v.ver
			ccfg.NextProtos = []string{"echo/1"}
			c := dialTLS(t, p, ccfg)
			roundTrip(t, c, "hello")
			big := make([]byte, 300<<10)
			for i := range big {
				big[i] = byte(i * 7)
			}
			roundTrip(t, c, string(big))
			ev.mu.Lock()
			st, ok, made, hs := ev.state, ev.stateOK, ev.made, ev.hs
			ev.mu.Unlock()
			if !ok || st.Version != v.ver || st.NegotiatedProtocol != "echo/1" {
				t.Fatalf("ConnectionState in ConnectionMade: ok %v version %x ALPN %q", ok, st.Version, st.NegotiatedProtocol)
			}
			if made != 1 || hs != 1 {
				t.Fatalf("ConnectionMade %d, HandshakeCompleted %d; want 1, 1", made, hs)
			}
			c.Close()
			if err := waitTLSLost(t, ev); err == nil {
				t.Fatal("nil reason")
			}
		})
	}
}

var _ = errors.Is
var _ = io.EOF
