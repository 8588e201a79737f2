package haproxy_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/internal/haproxytest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// reporter tells the client, in one line, what the PROXY header said.
type reporter struct{ protocol.Base }

func (p *reporter) ConnectionMade() {
	t := p.Transport()
	w := haproxy.FromTransport(t)
	ssl, _ := w.SSL()
	version, _ := ssl.SSLVersion()
	fmt.Fprintf(t, "remote=%s alpn=%s authority=%s ssl=%v version=%s uniqueid=%t\n",
		t.RemoteAddr(), w.ALPN(), w.Authority(), ssl.ClientSSL(), version, len(w.UniqueID()) > 0)
}

// selfSigned writes a certificate and key for name, in one PEM file as
// HAProxy's crt wants it.
func selfSigned(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "site.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const tlsConfig = `global
	maxconn 64

defaults
	mode tcp
	timeout connect 1s
	timeout client 10s
	timeout server 10s

frontend tls
	bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1
	unique-id-format %%{+X}o\ %%ci:%%cp_%%fi:%%fp_%%Ts_%%rt
	default_backend whirl

backend whirl
	server w %s send-proxy-v2 proxy-v2-options ssl,cert-cn,ssl-cipher,authority,unique-id,crc32c
`

// TestRealHAProxyTLVs terminates TLS in a real HAProxy, which sends the
// v2 header with its SSL, authority (SNI), ALPN, unique-ID and CRC32C TLVs
// to a whirl port: the protocol reads them, and the client's address.
func TestRealHAProxyTLVs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy")
	}
	r := reactor.New(reactor.WithLoops(1))
	reactortest.Run(t, r)
	port, err := r.Listen("haproxy:tcp:0:interface=127.0.0.1", factory.ForProtocol(func() protocol.Protocol { return &reporter{} }))
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	front := haproxytest.FreePort(t)
	said := haproxytest.Start(t, fmt.Sprintf(tlsConfig, front, selfSigned(t, dir, "chat.example.com"), port.Addr()), front)

	var c *tls.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: time.Second}
		c, err = tls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", front), &tls.Config{
			ServerName:         "chat.example.com",
			NextProtos:         []string{"h2"},
			InsecureSkipVerify: true, // the test's own self-signed certificate
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS dial through haproxy: %v\n%s", err, said())
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := fmt.Sprintf("remote=%s alpn=h2 authority=chat.example.com ssl=true version=TLSv1.3 uniqueid=true\n", c.LocalAddr())
	if line != want {
		t.Fatalf("got  %q\nwant %q", line, want)
	}
}
