package endpoint_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/endpoint"
)

// tcpTo is the TCP Client connecting to host and port.
func tcpTo(addr, host string, port int) endpoint.Client {
	return endpoint.Client{Kind: endpoint.TCP, Network: "tcp", Addr: addr, Host: host, Port: port}
}

// unixTo is the UNIX Client connecting to path.
func unixTo(path string) endpoint.Client {
	return endpoint.Client{Kind: endpoint.UNIX, Network: "unix", Addr: path, Path: path}
}

// tlsTo is the TLS Client connecting to host and port.
func tlsTo(addr, host string, port int) endpoint.Client {
	return endpoint.Client{Kind: endpoint.TLS, Network: "tcp", Addr: addr, Host: host, Port: port}
}

func withC(c endpoint.Client, f func(*endpoint.Client)) endpoint.Client {
	f(&c)
	return c
}

func TestParseClient(t *testing.T) {
	example := tcpTo("example.com:80", "example.com", 80)
	tests := []struct {
		in   string
		want endpoint.Client
	}{
		// Twisted's forms.
		{"tcp:host=example.com:port=80", example},
		{"tcp:example.com:80", example},
		{"tcp:host=example.com:80", example},
		{"tcp:example.com:port=80", example},
		{"tcp:port=80:example.com", example},
		{"tcp:port=80:host=example.com", example},
		{"TCP:example.com:080", example},
		{"tcp:host=H:port=1:timeout=5", withC(tcpTo("H:1", "H", 1), func(c *endpoint.Client) { c.Timeout = 5 * time.Second })},
		{"tcp:example.com:80:timeout=1.5s", withC(example, func(c *endpoint.Client) { c.Timeout = 1500 * time.Millisecond })},
		{"tcp:example.com:80:timeout=0.25", withC(example, func(c *endpoint.Client) { c.Timeout = 250 * time.Millisecond })},
		{"tcp:example.com:80:bindAddress=192.0.2.100", withC(example, func(c *endpoint.Client) { c.BindAddress = "192.0.2.100" })},
		{"tcp:example.com:80:bindAddress=::1", withC(example, func(c *endpoint.Client) { c.BindAddress = "::1" })},
		{`tcp:example.com:80:bindAddress=fe80\:\:1%eth0`, withC(example, func(c *endpoint.Client) { c.BindAddress = "fe80::1%eth0" })},
		// IPv6 hosts: escaped, or unescaped as a keyword.
		{"tcp:host=::1:port=80", tcpTo("[::1]:80", "::1", 80)},
		{`tcp:host=\:\:1:port=80`, tcpTo("[::1]:80", "::1", 80)},
		{`tcp:\:\:1:80`, tcpTo("[::1]:80", "::1", 80)},
		{"tcp:port=80:host=2001:db8::1", tcpTo("[2001:db8::1]:80", "2001:db8::1", 80)},
		{"tcp:host=fe80::1%eth0:port=443", tcpTo("[fe80::1%eth0]:443", "fe80::1%eth0", 443)},
		{"tcp:host=127.0.0.1:port=65535", tcpTo("127.0.0.1:65535", "127.0.0.1", 65535)},
		{"tcp:host=unix:port=80", tcpTo("[unix]:80", "unix", 80)},
		// unix.
		{"unix:/p", unixTo("/p")},
		{"unix:path=/p", unixTo("/p")},
		{"unix:path=/p:timeout=5:checkPID=1", withC(unixTo("/p"), func(c *endpoint.Client) { c.Timeout, c.CheckPID = 5*time.Second, true })},
		{"unix:/p:lockfile=1:timeout=9", withC(unixTo("/p"), func(c *endpoint.Client) { c.Timeout, c.CheckPID = 9*time.Second, true })},
		{"unix:/p:checkPID=0", unixTo("/p")},
		{"unix:timeout=1m:/p", withC(unixTo("/p"), func(c *endpoint.Client) { c.Timeout = time.Minute })},
		{"unix:@abstract", unixTo("@abstract")},
		{"unix:@abstract:checkPID=0", unixTo("@abstract")},
		{`unix:C\:/a\=b`, unixTo("C:/a=b")},
		// tls: Twisted's TLS client parameters.
		{"tls:example.com:443", tlsTo("example.com:443", "example.com", 443)},
		{"tls:host=example.com:port=443:timeout=5", withC(tlsTo("example.com:443", "example.com", 443), func(c *endpoint.Client) { c.Timeout = 5 * time.Second })},
		{"TLS:host=::1:port=443", tlsTo("[::1]:443", "::1", 443)},
		{"tls:example.com:443:certificate=c.pem", withC(tlsTo("example.com:443", "example.com", 443), func(c *endpoint.Client) { c.Certificate, c.PrivateKey = "c.pem", "c.pem" })},
		{"tls:example.com:443:certificate=c.pem:privateKey=k.pem:trustRoots=/etc/ca:bindAddress=192.0.2.1", withC(tlsTo("example.com:443", "example.com", 443), func(c *endpoint.Client) {
			c.Certificate, c.PrivateKey, c.TrustRoots, c.BindAddress = "c.pem", "k.pem", "/etc/ca", "192.0.2.1"
		})},
		// Plain host:port.
		{"example.com:80", example},
		{"127.0.0.1:8000", tcpTo("127.0.0.1:8000", "127.0.0.1", 8000)},
		{"[::1]:80", tcpTo("[::1]:80", "::1", 80)},
		{"[tcp]:80", tcpTo("[tcp]:80", "tcp", 80)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.ParseClient(tt.in)
			if err != nil {
				t.Fatalf("ParseClient(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseClient(%q) =\n%+v, want\n%+v", tt.in, got, tt.want)
			}
			s := got.String()
			again, err := endpoint.ParseClient(s)
			if err != nil || again != got {
				t.Errorf("ParseClient(%q) (its String) = %+v, %v; want %+v", s, again, err, got)
			}
		})
	}
}

func TestParseClientError(t *testing.T) {
	tests := []struct {
		in     string
		want   error
		reason string
	}{
		{"", endpoint.ErrSyntax, "empty"},
		{"tcp", endpoint.ErrSyntax, "missing host"},
		{"tcp:", endpoint.ErrSyntax, "missing host"},
		{"tcp:example.com", endpoint.ErrSyntax, "missing port"},
		{"tcp:host=example.com", endpoint.ErrSyntax, "missing port"},
		{"tcp:port=80", endpoint.ErrSyntax, "missing host"},
		{"tcp::80", endpoint.ErrSyntax, "missing host"},
		{"tcp:host=::1", endpoint.ErrSyntax, "missing port"},
		{"tcp:host=::1:80", endpoint.ErrSyntax, "the IPv6 address took the parts after it"},
		{"tcp:::1:80", endpoint.ErrSyntax, "too many arguments"},
		{"tcp:example.com:0", endpoint.ErrSyntax, "port 0"},
		{"tcp:example.com:65536", endpoint.ErrSyntax, "port"},
		{"tcp:example.com:http", endpoint.ErrSyntax, "port"},
		{"tcp:example.com:80:x", endpoint.ErrSyntax, "too many arguments"},
		{"tcp:host=a:port=1:b", endpoint.ErrSyntax, "host and port also given as keywords"},
		{"tcp:a:80:host=b", endpoint.ErrSyntax, "too many arguments (tcp takes host and port by position; host also given as a keyword)"},
		{"tcp:host=bad host:port=80", endpoint.ErrSyntax, "host"},
		{"tcp:host=a..b:port=80", endpoint.ErrSyntax, "host"},
		{"tcp:example.com:80:timeout=0", endpoint.ErrSyntax, "positive duration"},
		{"tcp:example.com:80:timeout=-5", endpoint.ErrSyntax, "timeout"},
		{"tcp:example.com:80:timeout=soon", endpoint.ErrSyntax, `timeout "soon" is not a duration`},
		{"tcp:example.com:80:timeout=", endpoint.ErrSyntax, "timeout"},
		{"tcp:example.com:80:bindAddress=localhost", endpoint.ErrSyntax, `bindAddress "localhost" is not an IP address`},
		{"tcp:example.com:80:bindAddress=", endpoint.ErrSyntax, "bindAddress"},
		{"tcp:example.com:80:bindAddress=1.2.3.4:5", endpoint.ErrSyntax, "too many arguments"},
		{"tcp:example.com:80:bindaddress=1.2.3.4", endpoint.ErrSyntax, `unknown keyword "bindaddress"`},
		{"tcp:example.com:80:interface=1.2.3.4", endpoint.ErrSyntax, `unknown keyword "interface"`},
		{"tcp:example.com:80:backlog=5", endpoint.ErrSyntax, "unknown keyword"},
		{"tcp:example.com:80:timeout=1:timeout=2", endpoint.ErrSyntax, "timeout given twice"},
		{`tcp:example.com:80\`, endpoint.ErrSyntax, "backslash at the end"},
		{`tcp:ex\ample.com:80`, endpoint.ErrSyntax, "bad escape"},
		{"unix", endpoint.ErrSyntax, "empty path"},
		{"unix:", endpoint.ErrSyntax, "empty path"},
		{"unix:path=", endpoint.ErrSyntax, "empty path"},
		{"unix:@", endpoint.ErrSyntax, "empty abstract"},
		{"unix:/p:/q", endpoint.ErrSyntax, "too many arguments"},
		{"unix:path=/p:/q", endpoint.ErrSyntax, "path also given as a keyword"},
		{"unix:/p:path=/q", endpoint.ErrSyntax, "path also given as a keyword"},
		{"unix:/p:checkPID=2", endpoint.ErrSyntax, `checkPID "2" is not 0 or 1`},
		{"unix:/p:lockfile=true", endpoint.ErrSyntax, `lockfile "true" is not 0 or 1`},
		{"unix:/p:checkPID=1:lockfile=1", endpoint.ErrSyntax, "given together"},
		{"unix:/p:checkpid=1", endpoint.ErrSyntax, `unknown keyword "checkpid"`},
		{"unix:/p:mode=600", endpoint.ErrSyntax, `unknown keyword "mode"`},
		{"unix:@a:checkPID=1", endpoint.ErrSyntax, "abstract"},
		{"unix:@a:lockfile=1", endpoint.ErrSyntax, "lockfile does not apply"},
		{"unix:/p:timeout=1x", endpoint.ErrSyntax, "timeout"},
		{"example.com", endpoint.ErrSyntax, "host:port"},
		{"example.com:0", endpoint.ErrSyntax, "port 0"},
		{":80", endpoint.ErrSyntax, "missing host"},
		{"::1:80", endpoint.ErrSyntax, "brackets"},
		{"bad host:80", endpoint.ErrSyntax, "host"},
		{"tcp6:example.com:80", endpoint.ErrUnsupported, `"tcp6" is for servers only`},
		{"udp:example.com:53", endpoint.ErrUnsupported, `"udp" is for servers only`},
		{"Systemd:domain=INET:index=0", endpoint.ErrUnsupported, `"Systemd" is for servers only`},
		{"udp", endpoint.ErrUnsupported, "servers only"},
		{"ssl:example.com:443", endpoint.ErrUnsupported, `"ssl" is for servers only (clients take tcp, unix and tls)`},
		{"tls:example.com:443:endpoint=tcp", endpoint.ErrUnsupported, "endpoint is not supported"},
		{"tls:example.com:443:privateKey=k.pem", endpoint.ErrSyntax, "privateKey without certificate"},
		{"tls:example.com", endpoint.ErrSyntax, "missing port"},
		{"tls:example.com:0", endpoint.ErrSyntax, "port 0"},
		{"tls:example.com:443:checkPID=1", endpoint.ErrSyntax, `unknown keyword "checkPID"`},
		{"onion:host=x.onion:port=80", endpoint.ErrUnsupported, "not supported yet"},
		{"foo:a:b=c", endpoint.ErrUnsupported, `unknown endpoint type "foo"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.ParseClient(tt.in)
			if err == nil {
				t.Fatalf("ParseClient(%q) = %+v, want an error", tt.in, got)
			}
			if got != (endpoint.Client{}) {
				t.Errorf("ParseClient(%q) returned %+v with its error, want the zero Client", tt.in, got)
			}
			checkParseError(t, tt.in, err, tt.want, tt.reason)
		})
	}
}

func TestClientString(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"tcp:example.com:80", "tcp:host=example.com:port=80"},
		{"example.com:80", "tcp:host=example.com:port=80"},
		{"[::1]:80", `tcp:host=\:\:1:port=80`},
		{"tcp:host=::1:port=80:timeout=30:bindAddress=::1", `tcp:host=\:\:1:port=80:bindAddress=\:\:1:timeout=30`},
		{"tcp:a:1:timeout=1500ms", "tcp:host=a:port=1:timeout=1.5s"},
		{"tcp:a:1:timeout=2m", "tcp:host=a:port=1:timeout=120"},
		{"unix:path=/p:lockfile=1:timeout=5", "unix:/p:checkPID=1:timeout=5"},
		{`unix:/a\:b\=c`, `unix:/a\:b\=c`},
		{"tls:example.com:443", "tls:host=example.com:port=443"},
		{"tls:example.com:443:trustRoots=ca.pem:certificate=c.pem:timeout=5", "tls:host=example.com:port=443:certificate=c.pem:trustRoots=ca.pem:timeout=5"},
		{"tls:example.com:443:certificate=c.pem:privateKey=k.pem", "tls:host=example.com:port=443:certificate=c.pem:privateKey=k.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := endpoint.ParseClient(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String(); got != tt.want {
				t.Errorf("ParseClient(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, c := range []endpoint.Client{{}, {Kind: endpoint.UDP}, {Kind: endpoint.Systemd}} {
		if got := c.String(); got != "" {
			t.Errorf("%+v.String() = %q, want empty", c, got)
		}
	}
}

// TestClientDial checks that Network and Addr are what Go's net package
// dials.
func TestClientDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, s := range []string{"tcp:127.0.0.1:" + port, "tcp:host=127.0.0.1:port=" + port + ":timeout=5", "127.0.0.1:" + port} {
		c, err := endpoint.ParseClient(s)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.DialTimeout(c.Network, c.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("net.Dial(%q, %q): %v", c.Network, c.Addr, err)
		}
		conn.Close()
	}
	if !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Fatalf("listening on %v", ln.Addr())
	}
}
