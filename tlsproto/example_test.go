package tlsproto_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/tlstest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/tlsproto"
)

// tlsEcho writes back the plaintext it receives, and tells, once the
// handshake is done, what ConnectionState gives it.
type tlsEcho struct {
	protocol.Base
	made chan<- string
}

func (e *tlsEcho) ConnectionMade() {
	st, ok := tlsproto.ConnectionState(e.Transport())
	e.made <- fmt.Sprintf("server: TLS %v, %s, handshake complete: %v", ok, tls.VersionName(st.Version), st.HandshakeComplete)
}

func (e *tlsEcho) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

// An echo over TLS: reactor.ListenTLS puts a tlsproto.Conn between each
// accepted connection and its protocol, which sees plaintext only. The
// client is crypto/tls over a net.Conn; the certificates are throw-away
// ones made for the example.
func Example() {
	certs, err := tlstest.New()
	if err != nil {
		log.Fatal(err)
	}
	cfg := certs.ServerConfig()
	cfg.MinVersion = tls.VersionTLS13

	made := make(chan string, 1)
	r := reactor.New(reactor.WithLoops(1))
	port, err := r.ListenTLS("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &tlsEcho{made: made} }), cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	dialer := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(dialer, "tcp", port.Addr().String(), certs.ClientConfig())
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := "hello over TLS"
	if _, err := io.WriteString(c, msg); err != nil {
		log.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("client: echoed %q over %s\n", got, tls.VersionName(c.ConnectionState().Version))
	fmt.Println(<-made)
	c.Close()

	cancel() // Run stops the reactor gracefully and returns
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	// Output:
	// client: echoed "hello over TLS" over TLS 1.3
	// server: TLS true, TLS 1.3, handshake complete: true
}
