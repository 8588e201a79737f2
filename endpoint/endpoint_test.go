package endpoint_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/endpoint"
)

// tcpAt is the TCP Server listening on addr, with the given backlog.
func tcpAt(addr string, backlog int) endpoint.Server {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		panic(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		panic(err)
	}
	return endpoint.Server{Kind: endpoint.TCP, Network: "tcp", Addr: addr, Port: p, Interface: host, Backlog: backlog}
}

// with returns s changed by f.
func with(s endpoint.Server, f func(*endpoint.Server)) endpoint.Server {
	f(&s)
	return s
}

// sslAt is the SSL Server listening on addr with Twisted's default key file.
func sslAt(addr string) endpoint.Server {
	s := tcpAt(addr, 0)
	s.Kind, s.PrivateKey, s.CertKey = endpoint.SSL, "server.pem", "server.pem"
	return s
}

// unixAt is the UNIX Server on path with Twisted's defaults.
func unixAt(path string) endpoint.Server {
	return endpoint.Server{Kind: endpoint.UNIX, Network: "unix", Addr: path, Path: path, Mode: 0o666, Lockfile: true}
}

func TestParseServer(t *testing.T) {
	tests := []struct {
		in   string
		want endpoint.Server
	}{
		// Twisted's positional form.
		{"tcp:8000", tcpAt(":8000", 0)},
		{"tcp:0", tcpAt(":0", 0)},
		{"tcp:65535", tcpAt(":65535", 0)},
		{"TCP:8000", tcpAt(":8000", 0)},
		{"tcp:08000", tcpAt(":8000", 0)},
		{"tcp:8000:127.0.0.1", tcpAt("127.0.0.1:8000", 0)},
		{"tcp:8000:127.0.0.1:128", tcpAt("127.0.0.1:8000", 128)},
		{"tcp:8000:", tcpAt(":8000", 0)},
		// Keywords.
		{"tcp:8000:interface=127.0.0.1", tcpAt("127.0.0.1:8000", 0)},
		{"tcp:port=8000:interface=::1", tcpAt("[::1]:8000", 0)},
		{"tcp:interface=::1:port=8000", tcpAt("[::1]:8000", 0)},
		{"tcp:interface=127.0.0.1:8000", tcpAt("127.0.0.1:8000", 0)},
		{"tcp:8000:backlog=50", tcpAt(":8000", 50)},
		{"tcp:backlog=1:port=0:interface=localhost", tcpAt("localhost:0", 1)},
		{"tcp:8000:interface=", tcpAt(":8000", 0)},
		{"tcp:8000:interface=fe80::1%eth0", tcpAt("[fe80::1%eth0]:8000", 0)},
		{"tcp:port=8000:interface=2001:db8::1:2", tcpAt("[2001:db8::1:2]:8000", 0)},
		{"tcp:interface=::1:backlog=5:8000", tcpAt("[::1]:8000", 5)},
		{`tcp:interface=\:\:1:8000`, tcpAt("[::1]:8000", 0)},
		{"tcp:interface=fe80:8000", tcpAt("fe80:8000", 0)},
		{"tcp:8000:interface=example.com.", tcpAt("example.com.:8000", 0)},
		{"tcp:8000:interface=my_service", tcpAt("my_service:8000", 0)},
		// Escapes.
		{`tcp:8000:interface=\:\:1`, tcpAt("[::1]:8000", 0)},
		{`tcp:8000:interface=\:\:ffff\:127.0.0.1`, tcpAt("[::ffff:127.0.0.1]:8000", 0)},
		// Plain host:port.
		{"127.0.0.1:8000", tcpAt("127.0.0.1:8000", 0)},
		{"[::1]:0", tcpAt("[::1]:0", 0)},
		{":8000", tcpAt(":8000", 0)},
		{"localhost:8000", tcpAt("localhost:8000", 0)},
		{"[localhost]:8000", tcpAt("localhost:8000", 0)},
		{"[unix]:8000", tcpAt("[unix]:8000", 0)},
		{"tcp:0:tCp", tcpAt("[tCp]:0", 0)},
		{"tcp:80:interface=udp", tcpAt("[udp]:80", 0)},
		{"[TCP]:80", tcpAt("[TCP]:80", 0)},
		{"[fe80::1%eth0]:80", tcpAt("[fe80::1%eth0]:80", 0)},
		{"127.0.0.1:007", tcpAt("127.0.0.1:7", 0)},
		{"[::1%a]:80", tcpAt("[::1%a]:80", 0)},
		// The forms of the issue.
		{"tcp:8080", tcpAt(":8080", 0)},
		{"tcp:8080:interface=127.0.0.1:backlog=50", tcpAt("127.0.0.1:8080", 50)},
		{"tcp:0:interface=127.0.0.1", tcpAt("127.0.0.1:0", 0)},
		{"tcp:port=80", tcpAt(":80", 0)},
		// tcp6: IPv6 only, every IPv6 interface by default, Twisted's
		// positional order port, backlog, interface.
		{"tcp6:8080", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::]:8080", Port: 8080, Interface: "::"}},
		{`tcp6:8080:interface=\:\:1`, endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::1]:8080", Port: 8080, Interface: "::1"}},
		{"tcp6:8080:interface=::1", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::1]:8080", Port: 8080, Interface: "::1"}},
		{"TCP6:8080:50:fe80\\:\\:1%eth0", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[fe80::1%eth0]:8080", Port: 8080, Interface: "fe80::1%eth0", Backlog: 50}},
		{"tcp6:8080:interface=", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::]:8080", Port: 8080, Interface: "::"}},
		{"tcp6:0:interface=localhost", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "localhost:0", Port: 0, Interface: "localhost"}},
		{"tcp6:8080:interface=::ffff:127.0.0.1", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::ffff:127.0.0.1]:8080", Port: 8080, Interface: "::ffff:127.0.0.1"}},
		// unix.
		{"unix:/path", unixAt("/path")},
		{"unix:address=/path:mode=660:backlog=50:lockfile=0", with(unixAt("/path"), func(s *endpoint.Server) { s.Mode, s.Backlog, s.Lockfile = 0o660, 50, false })},
		{"unix:/path:0600:10:1", with(unixAt("/path"), func(s *endpoint.Server) { s.Mode, s.Backlog = 0o600, 10 })},
		{"unix:/path:mode=0", with(unixAt("/path"), func(s *endpoint.Server) { s.Mode = 0 })},
		{"unix:/path:mode=777", with(unixAt("/path"), func(s *endpoint.Server) { s.Mode = 0o777 })},
		{"unix:relative.sock", unixAt("relative.sock")},
		{`unix:/tmp/a\:b\=c\\d`, unixAt(`/tmp/a:b=c\d`)},
		{"unix:./@name", unixAt("./@name")},
		{"unix:/p:lockfile=1", unixAt("/p")},
		{"unix:@abstract", endpoint.Server{Kind: endpoint.UNIX, Network: "unix", Addr: "@abstract", Path: "@abstract"}},
		{"unix:@abstract:backlog=5:lockfile=0", endpoint.Server{Kind: endpoint.UNIX, Network: "unix", Addr: "@abstract", Path: "@abstract", Backlog: 5}},
		// udp: Twisted's listenUDP parameters.
		{"udp:9000", endpoint.Server{Kind: endpoint.UDP, Network: "udp", Addr: ":9000", Port: 9000}},
		{"udp:9000:interface=127.0.0.1", endpoint.Server{Kind: endpoint.UDP, Network: "udp", Addr: "127.0.0.1:9000", Port: 9000, Interface: "127.0.0.1"}},
		{`udp:9000:\:\:1`, endpoint.Server{Kind: endpoint.UDP, Network: "udp", Addr: "[::1]:9000", Port: 9000, Interface: "::1"}},
		{"udp:port=53:interface=::1", endpoint.Server{Kind: endpoint.UDP, Network: "udp", Addr: "[::1]:53", Port: 53, Interface: "::1"}},
		// systemd.
		{"systemd:domain=INET:index=0", endpoint.Server{Kind: endpoint.Systemd, Network: "tcp", Domain: "INET"}},
		{"systemd:domain=INET6:index=2", endpoint.Server{Kind: endpoint.Systemd, Network: "tcp6", Domain: "INET6", Index: 2}},
		{"systemd:UNIX:1", endpoint.Server{Kind: endpoint.Systemd, Network: "unix", Domain: "UNIX", Index: 1}},
		{"systemd:domain=inet:name=web", endpoint.Server{Kind: endpoint.Systemd, Network: "tcp", Domain: "INET", Name: "web"}},
		{`systemd:domain=UNIX:name=a\=b c`, endpoint.Server{Kind: endpoint.Systemd, Network: "unix", Domain: "UNIX", Name: "a=b c"}},
		{"systemd:domain=INET:index=0:idle=30:stall=1m:maxwrite=1MiB", endpoint.Server{Kind: endpoint.Systemd, Network: "tcp", Domain: "INET", ReadIdleTimeout: 30 * time.Second, WriteStallTimeout: time.Minute, MaxWriteBuffer: 1 << 20}},
		// whirl's per-port options.
		{"tcp:8080:sndbuf=64KiB:rcvbuf=131072", with(tcpAt(":8080", 0), func(s *endpoint.Server) {
			s.SendBuffer, s.ReceiveBuffer = 64<<10, 128<<10
		})},
		{"tcp:8080:reuseport=1:idle=5m:stall=60s:maxwrite=16MiB", with(tcpAt(":8080", 0), func(s *endpoint.Server) {
			s.ReusePort, s.ReadIdleTimeout, s.WriteStallTimeout, s.MaxWriteBuffer = true, 5*time.Minute, time.Minute, 16<<20
		})},
		{"tcp:8080:reuseport=0", tcpAt(":8080", 0)},
		{"tcp:8080:idle=1.5", with(tcpAt(":8080", 0), func(s *endpoint.Server) { s.ReadIdleTimeout = 1500 * time.Millisecond })},
		{"tcp:8080:idle=250ms", with(tcpAt(":8080", 0), func(s *endpoint.Server) { s.ReadIdleTimeout = 250 * time.Millisecond })},
		{"tcp:8080:maxwrite=65536", with(tcpAt(":8080", 0), func(s *endpoint.Server) { s.MaxWriteBuffer = 65536 })},
		{"tcp:8080:maxwrite=64KiB", with(tcpAt(":8080", 0), func(s *endpoint.Server) { s.MaxWriteBuffer = 64 << 10 })},
		{"tcp:8080:maxwrite=1GiB", with(tcpAt(":8080", 0), func(s *endpoint.Server) { s.MaxWriteBuffer = 1 << 30 })},
		{"tcp6:8080:reuseport=1", endpoint.Server{Kind: endpoint.TCP6, Network: "tcp6", Addr: "[::]:8080", Port: 8080, Interface: "::", ReusePort: true}},
		{"unix:/p:reuseport=1:idle=10s:stall=20s:maxwrite=100", with(unixAt("/p"), func(s *endpoint.Server) {
			s.ReusePort, s.ReadIdleTimeout, s.WriteStallTimeout, s.MaxWriteBuffer = true, 10*time.Second, 20*time.Second, 100
		})},
		// ssl: Twisted's _parseSSL parameters.
		{"ssl:443", sslAt(":443")},
		{"ssl:443:privateKey=key.pem:certKey=cert.pem", with(sslAt(":443"), func(s *endpoint.Server) { s.PrivateKey, s.CertKey = "key.pem", "cert.pem" })},
		{"ssl:443:privateKey=both.pem", with(sslAt(":443"), func(s *endpoint.Server) { s.PrivateKey, s.CertKey = "both.pem", "both.pem" })},
		{"SSL:443:key.pem:cert.pem", with(sslAt(":443"), func(s *endpoint.Server) { s.PrivateKey, s.CertKey = "key.pem", "cert.pem" })},
		{"ssl:port=8443:interface=::1:backlog=50", with(sslAt("[::1]:8443"), func(s *endpoint.Server) { s.Interface, s.Backlog = "::1", 50 })},
		{"ssl:443:interface=127.0.0.1:extraCertChain=chain.pem:idle=30", with(sslAt("127.0.0.1:443"), func(s *endpoint.Server) {
			s.Interface, s.ExtraCertChain, s.ReadIdleTimeout = "127.0.0.1", "chain.pem", 30*time.Second
		})},
		{`ssl:0:privateKey=/etc/k\:1.pem`, with(sslAt(":0"), func(s *endpoint.Server) { s.PrivateKey, s.CertKey = "/etc/k:1.pem", "/etc/k:1.pem" })},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.ParseServer(tt.in)
			if err != nil {
				t.Fatalf("ParseServer(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseServer(%q) =\n%+v, want\n%+v", tt.in, got, tt.want)
			}
			s := got.String()
			again, err := endpoint.ParseServer(s)
			if err != nil || again != got {
				t.Errorf("ParseServer(%q) (its String) = %+v, %v; want %+v", s, again, err, got)
			}
		})
	}
}

func TestParseServerError(t *testing.T) {
	tests := []struct {
		in     string
		want   error
		reason string // a part of ParseError.Reason
	}{
		{"", endpoint.ErrSyntax, "empty"},
		{"tcp", endpoint.ErrSyntax, "missing port"},
		{"tcp:", endpoint.ErrSyntax, "missing port"},
		{"tcp::interface=127.0.0.1", endpoint.ErrSyntax, "missing port"},
		{"tcp:interface=127.0.0.1", endpoint.ErrSyntax, "missing port"},
		{"tcp:65536", endpoint.ErrSyntax, "port"},
		{"tcp:-1", endpoint.ErrSyntax, "port"},
		{"tcp:+80", endpoint.ErrSyntax, "port"},
		{"tcp: 80", endpoint.ErrSyntax, "port"},
		{"tcp:99999999999999999999999", endpoint.ErrSyntax, "port"},
		{"tcp:http", endpoint.ErrSyntax, "port"},
		{"tcp:8000:bogus=1", endpoint.ErrSyntax, `unknown keyword "bogus"`},
		{"tcp:8000:Interface=::1", endpoint.ErrSyntax, "unknown keyword"},
		{"tcp:8000:=1", endpoint.ErrSyntax, "empty keyword"},
		{"tcp:8000:port=8001", endpoint.ErrSyntax, "port given twice"},
		{"tcp:port=1:port=2", endpoint.ErrSyntax, "port given twice"},
		{"tcp:8000:interface=::1:interface=::1", endpoint.ErrSyntax, "interface given twice"},
		{"tcp:8000:127.0.0.1:interface=::1", endpoint.ErrSyntax, "interface given twice"},
		{"tcp:8000:backlog=1:backlog=2", endpoint.ErrSyntax, "backlog given twice"},
		{"tcp:8000:127.0.0.1:50:x", endpoint.ErrSyntax, "too many arguments"},
		{"tcp:8000:backlog=0", endpoint.ErrSyntax, "backlog"},
		{"tcp:8000:backlog=", endpoint.ErrSyntax, "backlog"},
		{"tcp:8000:backlog=-5", endpoint.ErrSyntax, "backlog"},
		{"tcp:8000:backlog=2147483648", endpoint.ErrSyntax, "backlog"},
		{"tcp:8000:interface=not an ip", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=256.1.1.1", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=1.2.3.04", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=-bad.example", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=a..b", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=[::1]", endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=" + strings.Repeat("a", 64), endpoint.ErrSyntax, "interface"},
		{"tcp:8000:interface=fe80::1%eth]0", endpoint.ErrSyntax, "zone"},
		{"tcp:interface=::1:8000", endpoint.ErrSyntax, "missing port"},
		{`tcp:8000:interface=\:\:1:1`, endpoint.ErrSyntax, "interface given twice"},
		{"tcp:8000:interface=1=2", endpoint.ErrSyntax, "interface"},
		{`tcp:8000:interface=\`, endpoint.ErrSyntax, "backslash at the end"},
		{`tcp:8000:interface=\x`, endpoint.ErrSyntax, "bad escape"},
		{`tcp:p\ort=8000`, endpoint.ErrSyntax, "bad escape"},
		{"ssl:443:sslmethod=TLSv1_2_METHOD", endpoint.ErrUnsupported, "sslmethod is not supported"},
		{"ssl:443:dhParameters=dh.pem", endpoint.ErrUnsupported, "dhParameters is not supported"},
		{"ssl:443:privateKey=", endpoint.ErrSyntax, "privateKey"},
		{"ssl:443:certKey=", endpoint.ErrSyntax, "certKey"},
		{"ssl:privateKey=k.pem", endpoint.ErrSyntax, "missing port"},
		{"ssl:443:trustRoots=ca.pem", endpoint.ErrSyntax, `unknown keyword "trustRoots"`},
		{"foo:8000:bar=1", endpoint.ErrUnsupported, `unknown endpoint type "foo"`},
		{`foo:a\:b`, endpoint.ErrUnsupported, `unknown endpoint type "foo"`},
		{"8000", endpoint.ErrSyntax, "host:port"},
		{"localhost", endpoint.ErrSyntax, "host:port"},
		{"localhost:", endpoint.ErrSyntax, "missing port"},
		{"localhost:http", endpoint.ErrSyntax, "port"},
		{"127.0.0.1:70000", endpoint.ErrSyntax, "port"},
		{"::1", endpoint.ErrSyntax, "brackets"},
		{"::1:8000", endpoint.ErrSyntax, "brackets"},
		{"fe80::1:8000", endpoint.ErrSyntax, "brackets"},
		{"[::1]", endpoint.ErrSyntax, "host:port"},
		{"[::1]8000", endpoint.ErrSyntax, "host:port"},
		{"bad host:80", endpoint.ErrSyntax, "host"},
		{"[::1%a]b]:80", endpoint.ErrSyntax, "host:port"},
		// tcp and tcp6.
		{"tcp:8000:reuseport=2", endpoint.ErrSyntax, `reuseport "2" is not 0 or 1`},
		{"tcp:8000:reuseport=", endpoint.ErrSyntax, "reuseport"},
		{"tcp:8000:idle=0", endpoint.ErrSyntax, "positive duration"},
		{"tcp:8000:idle=-1s", endpoint.ErrSyntax, "positive duration"},
		{"tcp:8000:idle=5x", endpoint.ErrSyntax, `idle "5x" is not a duration`},
		{"tcp:8000:idle=", endpoint.ErrSyntax, "not a duration"},
		{"tcp:8000:idle=1..5", endpoint.ErrSyntax, "not a duration"},
		{"tcp:8000:stall=forever", endpoint.ErrSyntax, `stall "forever" is not a duration`},
		{"tcp:8000:stall=99999999999h", endpoint.ErrSyntax, "not a duration"},
		{"tcp:8000:maxwrite=0", endpoint.ErrSyntax, `maxwrite "0" is not a positive size`},
		{"tcp:8000:maxwrite=16MB", endpoint.ErrSyntax, "maxwrite"},
		{"tcp:8000:sndbuf=0", endpoint.ErrSyntax, "sndbuf"},
		{"systemd:domain=INET:index=0:sndbuf=1KiB", endpoint.ErrSyntax, "sndbuf"},
		{"tcp:8000:maxwrite=MiB", endpoint.ErrSyntax, "maxwrite"},
		{"tcp:8000:maxwrite=-1", endpoint.ErrSyntax, "maxwrite"},
		{"tcp:8000:maxwrite=99999999999999GiB", endpoint.ErrSyntax, "maxwrite"},
		{"tcp:8000:idle=1s:idle=2s", endpoint.ErrSyntax, "idle given twice"},
		{"tcp:8000:lockfile=0", endpoint.ErrSyntax, `unknown keyword "lockfile"`},
		{"tcp6", endpoint.ErrSyntax, "missing port"},
		{"tcp6:", endpoint.ErrSyntax, "missing port"},
		{"tcp6:70000", endpoint.ErrSyntax, "port"},
		{"tcp6:8080:interface=127.0.0.1", endpoint.ErrSyntax, "IPv4 address"},
		{"tcp6:8080:0", endpoint.ErrSyntax, "backlog"},
		{"tcp6:8080:50:::1", endpoint.ErrSyntax, "too many arguments"},
		{"tcp6:8080:interface=bad host", endpoint.ErrSyntax, "interface"},
		{"tcp6:interface=::1:8080", endpoint.ErrSyntax, "missing port"},
		// unix.
		{"unix", endpoint.ErrSyntax, "empty path"},
		{"unix:", endpoint.ErrSyntax, "empty path"},
		{"unix:address=", endpoint.ErrSyntax, "empty path"},
		{"unix:mode=660", endpoint.ErrSyntax, "empty path"},
		{"unix:@", endpoint.ErrSyntax, "empty abstract"},
		{"unix:/a\x00b", endpoint.ErrSyntax, "NUL"},
		{"unix:/p:mode=888", endpoint.ErrSyntax, `mode "888" is not an octal mode`},
		{"unix:/p:mode=1777", endpoint.ErrSyntax, "mode"},
		{"unix:/p:mode=00660", endpoint.ErrSyntax, "mode"},
		{"unix:/p:mode=", endpoint.ErrSyntax, "mode"},
		{"unix:/p:mode=rw", endpoint.ErrSyntax, "mode"},
		{"unix:/p:mode=0o660", endpoint.ErrSyntax, "mode"},
		{"unix:/p:backlog=0", endpoint.ErrSyntax, "backlog"},
		{"unix:/p:lockfile=yes", endpoint.ErrSyntax, `lockfile "yes" is not 0 or 1`},
		{"unix:/p:path=/q", endpoint.ErrSyntax, `unknown keyword "path"`},
		{"unix:/p:address=/q", endpoint.ErrSyntax, "address given twice"},
		{"unix:/p:660:5:0:x", endpoint.ErrSyntax, "too many arguments"},
		{"unix:@a:mode=600", endpoint.ErrSyntax, "abstract"},
		{"unix:@a:lockfile=1", endpoint.ErrSyntax, "abstract"},
		{"unix:/p:interface=x", endpoint.ErrSyntax, "unknown keyword"},
		// udp.
		{"udp", endpoint.ErrSyntax, "missing port"},
		{"udp:", endpoint.ErrSyntax, "missing port"},
		{"udp:65536", endpoint.ErrSyntax, "port"},
		{"udp:53:backlog=5", endpoint.ErrSyntax, `unknown keyword "backlog"`},
		{"udp:53:reuseport=1", endpoint.ErrSyntax, `unknown keyword "reuseport"`},
		{"udp:53:idle=1s", endpoint.ErrSyntax, "unknown keyword"},
		{"udp:53:127.0.0.1:5", endpoint.ErrSyntax, "too many arguments"},
		{"udp:9000:::1", endpoint.ErrSyntax, "too many arguments"},
		{"udp:53:interface=256.0.0.1", endpoint.ErrSyntax, "interface"},
		// systemd.
		{"systemd", endpoint.ErrSyntax, "missing domain"},
		{"systemd:index=0", endpoint.ErrSyntax, "missing domain"},
		{"systemd:domain=INET", endpoint.ErrSyntax, "missing index or name"},
		{"systemd:domain=IPX:index=0", endpoint.ErrSyntax, `domain "IPX" is not INET, INET6 or UNIX`},
		{"systemd:domain=:index=0", endpoint.ErrSyntax, "domain"},
		{"systemd:domain=INET:index=x", endpoint.ErrSyntax, `index "x" is not a number`},
		{"systemd:domain=INET:index=-1", endpoint.ErrSyntax, "index"},
		{"systemd:domain=INET:index=", endpoint.ErrSyntax, "index"},
		{"systemd:domain=INET:index=99999999999", endpoint.ErrSyntax, "index"},
		{"systemd:domain=INET:index=0:name=web", endpoint.ErrSyntax, "index and name given together"},
		{"systemd:domain=INET:name=", endpoint.ErrSyntax, "empty name"},
		{`systemd:domain=INET:name=a\:b`, endpoint.ErrSyntax, "name"},
		{"systemd:domain=INET:name=caf\u00e9", endpoint.ErrSyntax, "name"},
		{"systemd:domain=INET:name=" + strings.Repeat("n", 256), endpoint.ErrSyntax, "longer than 255"},
		{"systemd:domain=INET:index=0:backlog=5", endpoint.ErrSyntax, `unknown keyword "backlog"`},
		{"systemd:domain=INET:index=0:reuseport=1", endpoint.ErrSyntax, `unknown keyword "reuseport"`},
		{"systemd:domain=INET:index=0:idle=0", endpoint.ErrSyntax, "idle"},
		{"systemd:INET:0:web:x", endpoint.ErrSyntax, "too many arguments"},
		{"systemd:UNIX::web", endpoint.ErrSyntax, "index and name given together"},
		{"unix:/a=b", endpoint.ErrSyntax, `unknown keyword "/a" (unix takes address, mode, backlog, lockfile, reuseport, idle, stall, maxwrite, sndbuf and rcvbuf); write an "=" that is part of a value as \=`},
		// Types not parsed yet.
		{"TLS:443", endpoint.ErrUnsupported, `"TLS" is for clients only`},
		{"stdio:", endpoint.ErrUnsupported, `"stdio" is not supported yet`},
		{"onion:443", endpoint.ErrUnsupported, `"onion" is not supported yet`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.ParseServer(tt.in)
			if err == nil {
				t.Fatalf("ParseServer(%q) = %+v, want an error", tt.in, got)
			}
			if got != (endpoint.Server{}) {
				t.Errorf("ParseServer(%q) returned %+v with its error, want the zero Server", tt.in, got)
			}
			checkParseError(t, tt.in, err, tt.want, tt.reason)
		})
	}
}

// checkParseError checks that err is a *ParseError for in matching want,
// whose reason contains reason.
func checkParseError(t *testing.T, in string, err, want error, reason string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("error = %v, want one matching %v", err, want)
	}
	var pe *endpoint.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error is %T, want *endpoint.ParseError", err)
	}
	if pe.Input != in {
		t.Errorf("ParseError.Input = %q, want %q", pe.Input, in)
	}
	if !strings.Contains(pe.Reason, reason) {
		t.Errorf("ParseError.Reason = %q, want it to contain %q", pe.Reason, reason)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "endpoint: ") || !strings.Contains(msg, pe.Reason) {
		t.Errorf("Error() = %q, want the package prefix and the reason", msg)
	}
}

func TestParseErrorUnwrap(t *testing.T) {
	tests := []struct {
		name string
		err  *endpoint.ParseError
		want error
	}{
		{"syntax", &endpoint.ParseError{Input: "x", Reason: "r", Err: endpoint.ErrSyntax}, endpoint.ErrSyntax},
		{"unsupported", &endpoint.ParseError{Input: "x", Reason: "r", Err: endpoint.ErrUnsupported}, endpoint.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Unwrap(); got != tt.want {
				t.Errorf("Unwrap() = %v, want %v", got, tt.want)
			}
			if got, want := tt.err.Error(), `endpoint: "x": r`; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestServerString(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"tcp:8080", "tcp:8080"},
		{"TCP:08080:interface=127.0.0.1:backlog=50", "tcp:8080:interface=127.0.0.1:backlog=50"},
		{"127.0.0.1:8000", "tcp:8000:interface=127.0.0.1"},
		{":8000", "tcp:8000"},
		{"[::1]:0", `tcp:0:interface=\:\:1`},
		{"[tcp]:80", "tcp:80:interface=tcp"},
		{"tcp6:8080", "tcp6:8080"},
		{"tcp6:8080:interface=::1", `tcp6:8080:interface=\:\:1`},
		{"tcp:8080:reuseport=1:idle=5m:stall=1.5:maxwrite=16777216", "tcp:8080:reuseport=1:idle=300:stall=1.5s:maxwrite=16MiB"},
		{"tcp:8080:maxwrite=1025", "tcp:8080:maxwrite=1025"},
		{"tcp:8080:maxwrite=2048", "tcp:8080:maxwrite=2KiB"},
		{"unix:/path", "unix:/path"},
		{"unix:address=/path:mode=0660:backlog=50:lockfile=0", "unix:/path:mode=660:backlog=50:lockfile=0"},
		{"unix:/p:mode=0", "unix:/p:mode=0"},
		{`unix:/a\:b\=c`, `unix:/a\:b\=c`},
		{`unix:address=/a\:b=c`, `unix:/a\:b\=c`},
		{"unix:@abstract", "unix:@abstract"},
		{"udp:9000:interface=127.0.0.1", "udp:9000:interface=127.0.0.1"},
		{"systemd:domain=inet:index=0", "systemd:domain=INET:index=0"},
		{"systemd:UNIX:name=web", "systemd:domain=UNIX:name=web"},
		{"ssl:443", "ssl:443"},
		{"ssl:443:server.pem:server.pem", "ssl:443"},
		{"ssl:443:k.pem", "ssl:443:privateKey=k.pem"},
		{"ssl:certKey=c.pem:port=443:interface=127.0.0.1:privateKey=k.pem", "ssl:443:interface=127.0.0.1:privateKey=k.pem:certKey=c.pem"},
		{"ssl:443:extraCertChain=x.pem:reuseport=1", "ssl:443:extraCertChain=x.pem:reuseport=1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := endpoint.ParseServer(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("ParseServer(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := (endpoint.Server{}).String(); got != "" {
		t.Errorf("Server{}.String() = %q, want empty", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[endpoint.Kind]string{
		endpoint.TCP: "tcp", endpoint.TCP6: "tcp6", endpoint.UNIX: "unix", endpoint.UDP: "udp",
		endpoint.Systemd: "systemd", endpoint.SSL: "ssl", endpoint.TLS: "tls", 0: "Kind(0)", 99: "Kind(99)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// TestServerListen checks that Network and Addr are what Go's net package
// listens on: today's reactor once took the endpoint string itself and
// failed with "too many colons".
func TestServerListen(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []string{
		"tcp:0:interface=127.0.0.1",
		"tcp:port=0:interface=127.0.0.1:backlog=50",
		"127.0.0.1:0",
		"unix:" + dir + "/s.sock",
	} {
		t.Run(s, func(t *testing.T) {
			srv, err := endpoint.ParseServer(s)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen(srv.Network, srv.Addr)
			if err != nil {
				t.Fatalf("net.Listen(%q, %q): %v", srv.Network, srv.Addr, err)
			}
			ln.Close()
		})
	}
	srv, err := endpoint.ParseServer("udp:0:interface=127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket(srv.Network, srv.Addr)
	if err != nil {
		t.Fatalf("net.ListenPacket(%q, %q): %v", srv.Network, srv.Addr, err)
	}
	pc.Close()
}
