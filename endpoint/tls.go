package endpoint

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// TLSConfig loads the files an ssl server endpoint names (PrivateKey,
// CertKey, ExtraCertChain) into a server configuration: the certificate of
// CertKey (with any chain after it in that file, then ExtraCertChain's
// certificates) and the key of PrivateKey, which may be one file holding
// both, as Twisted's default server.pem does. It reads the files now and
// returns an error naming the file when one is missing or holds no usable
// PEM. For a Server of another Kind it returns an error. Any goroutine.
func (s Server) TLSConfig() (*tls.Config, error) {
	if s.Kind != SSL {
		return nil, fmt.Errorf("endpoint: %s: not a TLS endpoint", s)
	}
	cert, err := loadKeyPair(s.CertKey, s.PrivateKey)
	if err != nil {
		return nil, err
	}
	if s.ExtraCertChain != "" {
		data, err := os.ReadFile(s.ExtraCertChain)
		if err != nil {
			return nil, fmt.Errorf("endpoint: extraCertChain: %w", err)
		}
		n := 0
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				cert.Certificate = append(cert.Certificate, b.Bytes)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("endpoint: extraCertChain %s holds no PEM certificate", s.ExtraCertChain)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// TLSConfig makes the client configuration of a tls client endpoint: the
// server's certificate is checked against Host (ServerName) and the
// system's authorities, or TrustRoots' (a PEM file, or a directory whose
// files are read as PEM, those holding no certificate skipped); a client
// certificate is loaded from Certificate and PrivateKey if given. It reads
// the files now. For a Client of another Kind it returns an error. Any
// goroutine.
func (c Client) TLSConfig() (*tls.Config, error) {
	if c.Kind != TLS {
		return nil, fmt.Errorf("endpoint: %s: not a TLS endpoint", c)
	}
	cfg := &tls.Config{ServerName: c.Host}
	if c.Certificate != "" {
		cert, err := loadKeyPair(c.Certificate, c.PrivateKey)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if c.TrustRoots != "" {
		pool, err := loadRoots(c.TrustRoots)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// loadKeyPair loads a certificate and its key from PEM files (possibly the
// same file).
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("endpoint: certificate: %w", err)
	}
	keyPEM := certPEM
	if keyFile != certFile {
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return tls.Certificate{}, fmt.Errorf("endpoint: private key: %w", err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("endpoint: certificate %s, key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// loadRoots reads a PEM file, or every file of a directory, into a pool.
func loadRoots(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("endpoint: trustRoots: %w", err)
	}
	files := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("endpoint: trustRoots: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("endpoint: trustRoots: %w", err)
		}
		if pool.AppendCertsFromPEM(data) {
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("endpoint: trustRoots " + path + " holds no PEM certificate")
	}
	return pool, nil
}
