// Package tlstest makes throw-away certificates for tests and benchmarks:
// a certificate authority, a server certificate for 127.0.0.1, ::1 and
// localhost, and a client certificate, all ECDSA P-256, made afresh in
// memory (no private key is ever committed).
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certs are a test PKI.
type Certs struct {
	// Pool holds the authority: the RootCAs of a client, the ClientCAs of
	// a server that checks client certificates.
	Pool *x509.CertPool
	// Server is the server's certificate, with its chain.
	Server tls.Certificate
	// Client is a client certificate signed by the same authority.
	Client tls.Certificate
	// CAPEM is the authority's certificate in PEM.
	CAPEM []byte
	// ServerCertPEM and ServerKeyPEM are the server's certificate and key
	// in PEM; ClientCertPEM and ClientKeyPEM the client's.
	ServerCertPEM, ServerKeyPEM, ClientCertPEM, ClientKeyPEM []byte
}

// New makes a fresh PKI. Any goroutine.
func New() (*Certs, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "whirl test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	c := &Certs{Pool: x509.NewCertPool(), CAPEM: pemBlock("CERTIFICATE", caDER)}
	c.Pool.AddCert(ca)
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		certPEM := append(pemBlock("CERTIFICATE", der), c.CAPEM...)
		keyPEM := pemBlock("PRIVATE KEY", kder)
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		return cert, certPEM, keyPEM, err
	}
	if c.Server, c.ServerCertPEM, c.ServerKeyPEM, err = leaf(2, "localhost", x509.ExtKeyUsageServerAuth); err != nil {
		return nil, err
	}
	if c.Client, c.ClientCertPEM, c.ClientKeyPEM, err = leaf(3, "whirl test client", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	return c, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// ServerConfig returns a server configuration with the server certificate.
// Any goroutine.
func (c *Certs) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Server}}
}

// ClientConfig returns a client configuration that trusts the authority
// and checks the name localhost. Any goroutine.
func (c *Certs) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: c.Pool, ServerName: "localhost"}
}

// WriteFiles writes ca.pem, server.pem (certificate and chain),
// server.key, client.pem and client.key into dir and returns their paths
// by those names. Any goroutine.
func (c *Certs) WriteFiles(dir string) (map[string]string, error) {
	files := map[string][]byte{
		"ca.pem": c.CAPEM, "server.pem": c.ServerCertPEM, "server.key": c.ServerKeyPEM,
		"client.pem": c.ClientCertPEM, "client.key": c.ClientKeyPEM,
	}
	paths := make(map[string]string, len(files))
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		paths[name] = p
	}
	return paths, nil
}
