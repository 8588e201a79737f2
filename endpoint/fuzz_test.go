package endpoint_test

import (
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/whirl-go/whirl/endpoint"
)

// seeds are strings of every form, good and bad, for both fuzz targets.
var seeds = []string{
	"tcp:8000",
	"tcp:8000:interface=127.0.0.1",
	"tcp:port=8000:interface=::1",
	`tcp:8000:interface=\:\:1`,
	"tcp:0:127.0.0.1:50",
	"tcp:8000:backlog=128",
	"tcp:8000:interface=fe80::1%eth0",
	"tcp:8080:reuseport=1:idle=5m:stall=60s:maxwrite=16MiB",
	"tcp6:8080:interface=::1",
	"tcp6:8080:50:fe80\\:\\:1",
	"unix:/path",
	"unix:address=/path:mode=660:backlog=50:lockfile=0",
	"unix:@abstract",
	`unix:/a\:b\=c\\d`,
	"udp:9000:interface=127.0.0.1",
	"systemd:domain=INET:index=0",
	"systemd:domain=UNIX:name=web:idle=1.5",
	"tcp:host=example.com:port=80:timeout=5",
	"tcp:example.com:80:bindAddress=192.0.2.1",
	"tcp:host=::1:port=80",
	"unix:path=/p:timeout=5:checkPID=1",
	"127.0.0.1:8000",
	"[::1]:0",
	":8000",
	"localhost:8000",
	"ssl:443",
	"ssl:443:privateKey=key.pem:certKey=cert.pem",
	"ssl:8443:k.pem:c.pem::127.0.0.1:50:chain.pem",
	"ssl:443:sslmethod=TLSv1_2_METHOD",
	"tls:example.com:443",
	"tls:host=::1:port=443:certificate=c.pem:privateKey=k.pem:trustRoots=ca",
	`tcp:\`,
	"",
}

// checkError checks the error of a parse.
func checkError(t *testing.T, s string, err error) {
	t.Helper()
	var pe *endpoint.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("parse of %q: error is %T, want *endpoint.ParseError", s, err)
	}
	if pe.Input != s {
		t.Fatalf("parse of %q: ParseError.Input = %q", s, pe.Input)
	}
	if !errors.Is(err, endpoint.ErrSyntax) && !errors.Is(err, endpoint.ErrUnsupported) {
		t.Fatalf("parse of %q: error %v matches neither ErrSyntax nor ErrUnsupported", s, err)
	}
}

// checkHostPort checks that addr is "host:port" with the given port.
func checkHostPort(t *testing.T, s, addr string, port int) {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("parse of %q: Addr %q, which SplitHostPort refuses: %v", s, addr, err)
	}
	if p != strconv.Itoa(port) {
		t.Fatalf("parse of %q: Addr %q has port %q, want %d", s, addr, p, port)
	}
}

func FuzzParseServer(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := endpoint.ParseServer(s)
		if err != nil {
			checkError(t, s, err)
			return
		}
		if srv.Backlog < 0 || srv.MaxWriteBuffer < 0 || srv.ReadIdleTimeout < 0 || srv.WriteStallTimeout < 0 {
			t.Fatalf("ParseServer(%q) = %+v: a negative option", s, srv)
		}
		switch srv.Kind {
		case endpoint.SSL:
			if srv.Network != "tcp" || srv.PrivateKey == "" || srv.CertKey == "" {
				t.Fatalf("ParseServer(%q) = %+v", s, srv)
			}
			checkHostPort(t, s, srv.Addr, srv.Port)
		case endpoint.TCP, endpoint.TCP6, endpoint.UDP:
			if srv.Network != srv.Kind.String() {
				t.Fatalf("ParseServer(%q): Network %q for %v", s, srv.Network, srv.Kind)
			}
			checkHostPort(t, s, srv.Addr, srv.Port)
			if srv.Kind == endpoint.TCP {
				// The address reads back as itself.
				again, err := endpoint.ParseServer(srv.Addr)
				if err != nil || again.Addr != srv.Addr {
					t.Fatalf("ParseServer(%q).Addr = %q, which parses as %+v, %v", s, srv.Addr, again, err)
				}
			}
		case endpoint.UNIX:
			if srv.Network != "unix" || srv.Addr != srv.Path || srv.Path == "" {
				t.Fatalf("ParseServer(%q) = %+v", s, srv)
			}
		case endpoint.Systemd:
			if srv.Network == "" || srv.Addr != "" || srv.Index < 0 {
				t.Fatalf("ParseServer(%q) = %+v", s, srv)
			}
		default:
			t.Fatalf("ParseServer(%q).Kind = %v", s, srv.Kind)
		}
		str := srv.String()
		again, err := endpoint.ParseServer(str)
		if err != nil {
			t.Fatalf("ParseServer(%q).String() = %q, which ParseServer refuses: %v", s, str, err)
		}
		if again != srv {
			t.Fatalf("ParseServer(%q) = %+v; its String %q parses as %+v", s, srv, str, again)
		}
	})
}

func FuzzParseClient(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := endpoint.ParseClient(s)
		if err != nil {
			checkError(t, s, err)
			return
		}
		if c.Timeout < 0 {
			t.Fatalf("ParseClient(%q) = %+v: a negative timeout", s, c)
		}
		switch c.Kind {
		case endpoint.TCP, endpoint.TLS:
			if c.Network != "tcp" || c.Host == "" || c.Port == 0 {
				t.Fatalf("ParseClient(%q) = %+v", s, c)
			}
			checkHostPort(t, s, c.Addr, c.Port)
			again, err := endpoint.ParseClient(c.Addr)
			if err != nil || again.Addr != c.Addr {
				t.Fatalf("ParseClient(%q).Addr = %q, which parses as %+v, %v", s, c.Addr, again, err)
			}
		case endpoint.UNIX:
			if c.Network != "unix" || c.Addr != c.Path || c.Path == "" {
				t.Fatalf("ParseClient(%q) = %+v", s, c)
			}
		default:
			t.Fatalf("ParseClient(%q).Kind = %v", s, c.Kind)
		}
		str := c.String()
		again, err := endpoint.ParseClient(str)
		if err != nil {
			t.Fatalf("ParseClient(%q).String() = %q, which ParseClient refuses: %v", s, str, err)
		}
		if again != c {
			t.Fatalf("ParseClient(%q) = %+v; its String %q parses as %+v", s, c, str, again)
		}
	})
}
