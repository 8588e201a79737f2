package endpoint_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/internal/tlstest"
)

func TestTLSConfig(t *testing.T) {
	certs, err := tlstest.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := certs.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	both := filepath.Join(dir, "both.pem")
	if err := os.WriteFile(both, append(append([]byte{}, certs.ServerKeyPEM...), certs.ServerCertPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"ssl:0:privateKey=" + files["server.key"] + ":certKey=" + files["server.pem"],
		"ssl:0:privateKey=" + both,
		"ssl:0:privateKey=" + files["server.key"] + ":certKey=" + files["server.pem"] + ":extraCertChain=" + files["ca.pem"],
	} {
		srv, err := endpoint.ParseServer(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := srv.TLSConfig()
		if err != nil {
			t.Fatalf("%s: TLSConfig: %v", s, err)
		}
		if len(cfg.Certificates) != 1 || len(cfg.Certificates[0].Certificate) < 2 {
			t.Fatalf("%s: %d certificates", s, len(cfg.Certificates))
		}
		leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
		if err != nil || leaf.Subject.CommonName != "localhost" {
			t.Fatalf("%s: leaf %v, %v", s, leaf, err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"ssl:0:privateKey=" + filepath.Join(dir, "missing.pem"), "missing.pem"},
		{"ssl:0:privateKey=" + files["ca.pem"], "key"},
		{"ssl:0:privateKey=" + files["server.key"] + ":certKey=" + files["server.pem"] + ":extraCertChain=" + files["server.key"], "no PEM certificate"},
	} {
		srv, err := endpoint.ParseServer(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.TLSConfig(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: TLSConfig error %v, want one mentioning %q", tt.in, err, tt.want)
		}
	}

	c, err := endpoint.ParseClient("tls:localhost:443:certificate=" + files["client.pem"] + ":privateKey=" + files["client.key"] + ":trustRoots=" + files["ca.pem"])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "localhost" || len(cfg.Certificates) != 1 || cfg.RootCAs == nil {
		t.Fatalf("client config: %+v", cfg)
	}
	rootsDir := t.TempDir()
	os.WriteFile(filepath.Join(rootsDir, "a.pem"), certs.CAPEM, 0o600)
	os.WriteFile(filepath.Join(rootsDir, "README"), []byte("not a certificate"), 0o600)
	c, _ = endpoint.ParseClient("tls:localhost:443:trustRoots=" + rootsDir)
	if cfg, err := c.TLSConfig(); err != nil || cfg.RootCAs == nil || cfg.Certificates != nil {
		t.Fatalf("trustRoots directory: %+v, %v", cfg, err)
	}
	c, _ = endpoint.ParseClient("tls:localhost:443:trustRoots=" + files["server.key"])
	if _, err := c.TLSConfig(); err == nil {
		t.Fatal("trustRoots without a certificate: no error")
	}
	if _, err := (endpoint.Server{Kind: endpoint.TCP}).TLSConfig(); err == nil {
		t.Fatal("TLSConfig of a tcp server: no error")
	}
	if _, err := (endpoint.Client{Kind: endpoint.TCP}).TLSConfig(); err == nil {
		t.Fatal("TLSConfig of a tcp client: no error")
	}
}
