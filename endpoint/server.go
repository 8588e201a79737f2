package endpoint

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultMode is the permission a UNIX server's socket file gets when the
// string gives no mode=, as in Twisted.
const DefaultMode os.FileMode = 0o666

// Server is a parsed server (listening) endpoint. Which fields apply depends
// on Kind; the others are zero. A zero Backlog, ReusePort,
// ReadIdleTimeout, WriteStallTimeout or MaxWriteBuffer means the reactor's
// setting; Mode and Lockfile of a UNIX socket file are always set (to
// Twisted's defaults when the string gives none).
//
// A Server is a plain value: it may be copied and compared with ==.
type Server struct {
	// Kind is TCP, TCP6, UNIX, UDP, Systemd or SSL.
	Kind Kind
	// Network is the network to give Go's net package: "tcp" for TCP,
	// "tcp6" for TCP6 (IPv6 only), "unix" for UNIX, "udp" for UDP. For
	// Systemd it is the network of the inherited socket, by Domain: "tcp"
	// (INET), "tcp6" (INET6) or "unix" (UNIX). For SSL it is "tcp".
	Network string
	// Addr is the address to listen on, as net.Listen and net.ListenPacket
	// take it with Network. For TCP, TCP6, UDP and SSL it is "host:port", with
	// IPv6 hosts in brackets: ":8080" (every interface), "127.0.0.1:8080",
	// "[::]:8080" (tcp6's default). A host named like an endpoint type is
	// bracketed too ("[unix]:8080"), so that ParseServer reads Addr back as
	// the same address. For UNIX it is Path. For Systemd it is empty.
	Addr string

	// Port is the port of TCP, TCP6, UDP and SSL, from 0 (the system picks one)
	// to 65535.
	Port int
	// Interface is the host of TCP, TCP6, UDP and SSL, as written: an IP
	// address (an IPv6 one possibly with a zone) or a host name, which is
	// not resolved here. Empty means every interface for TCP and UDP; TCP6
	// defaults to "::" (every IPv6 interface) and refuses IPv4 addresses.
	Interface string
	// Backlog is the listen backlog of TCP, TCP6, UNIX and SSL, or 0 when the
	// string gave none: the reactor's default then applies (whirl's is the
	// system's maximum, where Twisted's is 50).
	Backlog int

	// Path is the socket file of UNIX. A name starting with "@" ("@app") is
	// in Linux's abstract namespace: the "@" is kept, as Go's net package
	// reads it, there is no file (so Mode and Lockfile are zero and may not
	// be given), and listening on it fails on other systems. Write a file
	// whose name starts with "@" as "./@name".
	Path string
	// Mode is the permission of UNIX's socket file: mode= in octal ("660"),
	// [DefaultMode] (0666) when not given, as in Twisted.
	Mode os.FileMode
	// Lockfile is Twisted's lockfile= of UNIX (its listenUNIX wantPID),
	// true unless "lockfile=0": the listener holds a lock file named Path
	// + ".lock" that records its process ID, so that a socket file left by
	// a process that died is replaced, and one whose lock a live process
	// holds is refused. With lockfile=0 an existing socket file is refused.
	Lockfile bool

	// Domain is the address family of Systemd's inherited socket: "INET",
	// "INET6" or "UNIX" (Twisted's domain=, written in any case).
	Domain string
	// Index is Systemd's index=: the position of the socket among those
	// systemd passed (LISTEN_FDS, counted from 0, that is from descriptor
	// 3). It is 0 and unused when Name is set.
	Index int
	// Name is Systemd's name=: the socket's FileDescriptorName= in its
	// systemd unit, looked up in LISTEN_FDNAMES. A string gives exactly one
	// of index= and name=.
	Name string

	// ReusePort is whirl's reuseport=1 on TCP, TCP6 and UNIX: SO_REUSEPORT
	// on this port, whatever the reactor's setting (reuseport=0 leaves the
	// reactor's setting).
	ReusePort bool
	// ReadIdleTimeout is whirl's idle= on TCP, TCP6, UNIX and Systemd: the
	// read idle timeout of this port's connections, as
	// reactor.WithReadIdleTimeout sets it for every port.
	ReadIdleTimeout time.Duration
	// WriteStallTimeout is whirl's stall= on TCP, TCP6, UNIX and Systemd:
	// the write stall timeout of this port's connections, as
	// reactor.WithWriteStallTimeout sets it for every port.
	WriteStallTimeout time.Duration
	// MaxWriteBuffer is whirl's maxwrite= on TCP, TCP6, UNIX and Systemd:
	// the cap of each connection's buffered output in bytes, as
	// reactor.WithMaxWriteBuffer sets it for every port.
	MaxWriteBuffer int
	// SendBuffer is whirl's sndbuf= on TCP, TCP6 and UNIX: the kernel send
	// buffer (SO_SNDBUF) of this port's connections in bytes, as
	// reactor.WithWriteBufferSize sets it for every port. A small one makes
	// a peer that does not read show in the server's own accounting sooner.
	SendBuffer int
	// ReceiveBuffer is whirl's rcvbuf= on TCP, TCP6 and UNIX: the kernel
	// receive buffer (SO_RCVBUF), as reactor.WithReadBufferSize sets it.
	ReceiveBuffer int

	// HAProxy is the "haproxy:" prefix ("haproxy:tcp:8080",
	// "haproxy:unix:/run/app.sock"), Twisted's haproxy endpoint: every
	// connection starts with a PROXY protocol header (v1 or v2), which the
	// reactor reads before the factory builds the protocol (package
	// haproxy). The other fields are those of the endpoint after the prefix.
	HAProxy bool
	// PrivateKey is SSL's privateKey=: the PEM file of the server's
	// private key; "server.pem" when not given, as in Twisted.
	PrivateKey string
	// CertKey is SSL's certKey=: the PEM file of the server's certificate
	// (and the chain after it); PrivateKey when not given, as in Twisted
	// (one file holding both).
	CertKey string
	// ExtraCertChain is SSL's extraCertChain=: a PEM file of more
	// certificates sent after the server's, or empty.
	ExtraCertChain string
}

// DefaultPrivateKey is SSL's private key file when the string names none,
// as in Twisted.
const DefaultPrivateKey = "server.pem"

// extensions are whirl's own keywords: options of a port that Twisted sets
// per reactor or not at all.
var extensions = []string{"reuseport", "idle", "stall", "maxwrite", "sndbuf", "rcvbuf"}

// sslParams are the parameters of ssl, in the order of Twisted's _parseSSL.
var sslParams = []string{"port", "privateKey", "certKey", "sslmethod", "interface", "backlog", "extraCertChain", "dhParameters"}

// connExtensions are the extensions that apply to a port whose socket
// whirl does not create (systemd's): the options of its connections.
var connExtensions = []string{"idle", "stall", "maxwrite"}

// serverSchemas are the parameters of each server type, in Twisted's
// positional order: tcp as its _parseTCP, tcp6 as its TCP6 parser (the
// backlog before the interface), unix as its _parseUNIX, systemd as its
// systemd parser; udp, which Twisted's strings do not have, as listenUDP.
var serverSchemas = map[string]*schema{
	"tcp":     {typ: "tcp", names: append([]string{"port", "interface", "backlog"}, extensions...), npos: 3, ipv6: []string{"interface"}},
	"tcp6":    {typ: "tcp6", names: append([]string{"port", "backlog", "interface"}, extensions...), npos: 3, ipv6: []string{"interface"}},
	"unix":    {typ: "unix", names: append([]string{"address", "mode", "backlog", "lockfile"}, extensions...), npos: 4},
	"udp":     {typ: "udp", names: []string{"port", "interface"}, npos: 2, ipv6: []string{"interface"}},
	"systemd": {typ: "systemd", names: append([]string{"domain", "index", "name"}, connExtensions...), npos: 3},
	"ssl":     {typ: "ssl", names: append(sslParams[:len(sslParams):len(sslParams)], extensions...), npos: len(sslParams), ipv6: []string{"interface"}},
}

// ParseServer parses a server endpoint string in Twisted's syntax
// ("tcp:8080", "unix:/run/app.sock:mode=660", "systemd:domain=INET:index=0",
// ...) or a plain "host:port" ("127.0.0.1:8000", "[::1]:0", ":8000"), which
// is TCP; the package documentation lists every form. The error is a
// [*ParseError] wrapping [ErrSyntax] or [ErrUnsupported], with the zero
// Server. ParseServer does no name resolution and touches no file.
// Any goroutine may call it.
func ParseServer(s string) (Server, error) {
	if s == "" {
		return Server{}, syntaxError(s, "empty address")
	}
	if inner, ok := cutHAProxy(s); ok {
		return parseHAProxy(s, inner)
	}
	typ, reason := split(s)
	if reason != "" {
		return Server{}, unsupportedError(s, reason)
	}
	if typ == "" {
		host, port, reason := splitHostPort(s)
		if reason != "" {
			return Server{}, syntaxError(s, reason)
		}
		return Server{Kind: TCP, Network: "tcp", Addr: joinHostPort(host, port), Port: port, Interface: host}, nil
	}
	if _, ok := serverSchemas[typ]; !ok {
		name, _, _ := strings.Cut(s, ":")
		return Server{}, unsupportedError(s, "endpoint type "+strconv.Quote(name)+" is for clients only (a TLS server is ssl:PORT:privateKey=KEY.pem:certKey=CERT.pem)")
	}
	args, reason := tokenize(s)
	if reason != "" {
		return Server{}, syntaxError(s, reason)
	}
	p, reason := serverSchemas[typ].bind(args[1:])
	if reason != "" {
		return Server{}, syntaxError(s, reason)
	}
	var srv Server
	switch typ {
	case "tcp":
		srv, reason = parseServerIP(TCP, &p)
	case "tcp6":
		srv, reason = parseServerIP(TCP6, &p)
	case "udp":
		srv, reason = parseServerIP(UDP, &p)
	case "unix":
		srv, reason = parseServerUNIX(&p)
	case "systemd":
		srv, reason = parseServerSystemd(&p)
	case "ssl":
		var unsupported bool
		srv, reason, unsupported = parseServerSSL(&p)
		if unsupported {
			return Server{}, unsupportedError(s, reason)
		}
	}
	if reason == "" {
		reason = srv.parseExtensions(&p)
	}
	if reason != "" {
		return Server{}, syntaxError(s, reason)
	}
	return srv, nil
}

// parseServerIP parses the parameters of tcp, tcp6 and udp.
func parseServerIP(kind Kind, p *params) (Server, string) {
	v, _ := p.get("port")
	if v == "" {
		return Server{}, missingPort(p)
	}
	port, reason := parsePort(v)
	if reason != "" {
		return Server{}, reason
	}
	iface, _ := p.get("interface")
	if reason := checkHost(iface); reason != "" {
		return Server{}, "interface " + reason
	}
	srv := Server{Kind: kind, Network: kind.String(), Port: port}
	if kind == TCP6 {
		if iface == "" {
			iface = "::"
		}
		if ip, err := netip.ParseAddr(iface); err == nil && !ip.Is6() {
			return Server{}, "interface " + strconv.Quote(iface) + " is an IPv4 address (tcp6 listens on IPv6 only; use tcp)"
		}
	}
	if v, ok := p.get("backlog"); ok {
		if srv.Backlog, reason = parseBacklog(v); reason != "" {
			return Server{}, reason
		}
	}
	srv.Interface = iface
	srv.Addr = joinHostPort(iface, port)
	return srv, ""
}

// parseServerSSL parses the parameters of ssl: tcp's, and the key files.
// unsupported says that reason names a parameter whirl cannot honour.
func parseServerSSL(p *params) (srv Server, reason string, unsupported bool) {
	for _, name := range []string{"sslmethod", "dhParameters"} {
		if _, ok := p.get(name); ok {
			return Server{}, name + " is not supported: crypto/tls negotiates TLS 1.2 or 1.3 with ECDHE (set tls.Config in code to restrict it)", true
		}
	}
	if srv, reason = parseServerIP(TCP, p); reason != "" {
		return Server{}, reason, false
	}
	srv.Kind = SSL
	srv.PrivateKey = DefaultPrivateKey
	if v, ok := p.get("privateKey"); ok {
		srv.PrivateKey = v
	}
	srv.CertKey = srv.PrivateKey
	if v, ok := p.get("certKey"); ok {
		srv.CertKey = v
	}
	srv.ExtraCertChain, _ = p.get("extraCertChain")
	for _, f := range [][2]string{{"privateKey", srv.PrivateKey}, {"certKey", srv.CertKey}} {
		if f[1] == "" || strings.IndexByte(f[1], 0) >= 0 {
			return Server{}, f[0] + " " + strconv.Quote(f[1]) + " is not a file name", false
		}
	}
	if strings.IndexByte(srv.ExtraCertChain, 0) >= 0 {
		return Server{}, "extraCertChain " + strconv.Quote(srv.ExtraCertChain) + " is not a file name", false
	}
	return srv, "", false
}

// parseServerUNIX parses the parameters of unix.
func parseServerUNIX(p *params) (Server, string) {
	path, _ := p.get("address")
	if reason := checkPath(path); reason != "" {
		return Server{}, reason
	}
	srv := Server{Kind: UNIX, Network: "unix", Addr: path, Path: path}
	abstract := isAbstract(path)
	if !abstract {
		srv.Mode, srv.Lockfile = DefaultMode, true
	}
	var reason string
	if v, ok := p.get("mode"); ok {
		if abstract {
			return Server{}, "mode does not apply to an abstract socket (it has no file)"
		}
		if srv.Mode, reason = parseMode(v); reason != "" {
			return Server{}, reason
		}
	}
	if v, ok := p.get("backlog"); ok {
		if srv.Backlog, reason = parseBacklog(v); reason != "" {
			return Server{}, reason
		}
	}
	if v, ok := p.get("lockfile"); ok {
		lock, reason := parseFlag("lockfile", v)
		if reason != "" {
			return Server{}, reason
		}
		if lock && abstract {
			return Server{}, "lockfile does not apply to an abstract socket (it has no file)"
		}
		srv.Lockfile = lock
	}
	return srv, ""
}

// systemdNetworks maps systemd's domains to Go networks.
var systemdNetworks = map[string]string{"INET": "tcp", "INET6": "tcp6", "UNIX": "unix"}

// parseServerSystemd parses the parameters of systemd.
func parseServerSystemd(p *params) (Server, string) {
	d, ok := p.get("domain")
	if !ok {
		return Server{}, "missing domain (INET, INET6 or UNIX)"
	}
	domain := strings.ToUpper(d)
	network, ok := systemdNetworks[domain]
	if !ok {
		return Server{}, "domain " + strconv.Quote(d) + " is not INET, INET6 or UNIX"
	}
	srv := Server{Kind: Systemd, Network: network, Domain: domain}
	index, byIndex := p.get("index")
	name, byName := p.get("name")
	switch {
	case byIndex && byName:
		return Server{}, "index and name given together (give one)"
	case byIndex:
		n, ok := parseDecimal(index, 1<<30)
		if !ok {
			return Server{}, "index " + strconv.Quote(index) + " is not a number from 0 to 1073741824"
		}
		srv.Index = n
	case byName:
		if reason := checkFDName(name); reason != "" {
			return Server{}, reason
		}
		srv.Name = name
	default:
		return Server{}, "missing index or name"
	}
	return srv, ""
}

// checkFDName checks a systemd FileDescriptorName: 1 to 255 printable
// ASCII characters other than ":", which separates LISTEN_FDNAMES.
func checkFDName(n string) string {
	if n == "" {
		return "empty name"
	}
	if len(n) > 255 {
		return "name is longer than 255 characters"
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x20 || c > 0x7e || c == ':' {
			return "name " + strconv.Quote(n) + ` may hold printable ASCII characters other than ":" only`
		}
	}
	return ""
}

// parseExtensions parses whirl's own keywords into srv. The schema has
// already refused the ones srv's type does not take.
func (srv *Server) parseExtensions(p *params) string {
	var reason string
	if v, ok := p.get("reuseport"); ok {
		if srv.ReusePort, reason = parseFlag("reuseport", v); reason != "" {
			return reason
		}
	}
	if v, ok := p.get("idle"); ok {
		if srv.ReadIdleTimeout, reason = parseDuration("idle", v); reason != "" {
			return reason
		}
	}
	if v, ok := p.get("stall"); ok {
		if srv.WriteStallTimeout, reason = parseDuration("stall", v); reason != "" {
			return reason
		}
	}
	if v, ok := p.get("maxwrite"); ok {
		if srv.MaxWriteBuffer, reason = parseSize("maxwrite", v); reason != "" {
			return reason
		}
	}
	if v, ok := p.get("sndbuf"); ok {
		if srv.SendBuffer, reason = parseSize("sndbuf", v); reason != "" {
			return reason
		}
	}
	if v, ok := p.get("rcvbuf"); ok {
		if srv.ReceiveBuffer, reason = parseSize("rcvbuf", v); reason != "" {
			return reason
		}
	}
	return ""
}

// String returns the endpoint string of s, in Twisted's syntax with the
// defaults left out, such that ParseServer(s.String()) gives s back for
// every s that ParseServer returned: "tcp:8080:interface=127.0.0.1",
// "ssl:443:privateKey=key.pem:certKey=cert.pem",
// `tcp6:8080:interface=\:\:1`, "unix:/run/app.sock:mode=660",
// "systemd:domain=INET:index=0". A plain "host:port" comes back in the tcp
// form. It is built from Kind and the fields of that kind (Network and Addr
// are not read), and is empty for a Kind that is none of the types. Any
// goroutine may call it.
func (s Server) String() string {
	if s.HAProxy {
		s.HAProxy = false
		if inner := s.String(); inner != "" {
			return haproxyPrefix + inner
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(s.Kind.String())
	switch s.Kind {
	case TCP, TCP6, UDP, SSL:
		b.WriteString(":" + strconv.Itoa(s.Port))
		if s.Interface != "" && (s.Kind != TCP6 || s.Interface != "::") {
			b.WriteString(":interface=" + quote(s.Interface))
		}
		if s.Backlog != 0 {
			b.WriteString(":backlog=" + strconv.Itoa(s.Backlog))
		}
		if s.Kind == SSL {
			if s.PrivateKey != DefaultPrivateKey {
				b.WriteString(":privateKey=" + quote(s.PrivateKey))
			}
			if s.CertKey != s.PrivateKey {
				b.WriteString(":certKey=" + quote(s.CertKey))
			}
			if s.ExtraCertChain != "" {
				b.WriteString(":extraCertChain=" + quote(s.ExtraCertChain))
			}
		}
	case UNIX:
		b.WriteString(":" + quote(s.Path))
		if s.Mode != DefaultMode && !isAbstract(s.Path) {
			b.WriteString(":mode=" + strconv.FormatUint(uint64(s.Mode.Perm()), 8))
		}
		if s.Backlog != 0 {
			b.WriteString(":backlog=" + strconv.Itoa(s.Backlog))
		}
		if !s.Lockfile && !isAbstract(s.Path) {
			b.WriteString(":lockfile=0")
		}
	case Systemd:
		b.WriteString(":domain=" + s.Domain)
		if s.Name != "" {
			b.WriteString(":name=" + quote(s.Name))
		} else {
			b.WriteString(":index=" + strconv.Itoa(s.Index))
		}
	default:
		return ""
	}
	if s.ReusePort {
		b.WriteString(":reuseport=1")
	}
	if s.ReadIdleTimeout > 0 {
		b.WriteString(":idle=" + formatDuration(s.ReadIdleTimeout))
	}
	if s.WriteStallTimeout > 0 {
		b.WriteString(":stall=" + formatDuration(s.WriteStallTimeout))
	}
	if s.MaxWriteBuffer > 0 {
		b.WriteString(":maxwrite=" + formatSize(s.MaxWriteBuffer))
	}
	if s.SendBuffer > 0 {
		b.WriteString(":sndbuf=" + formatSize(s.SendBuffer))
	}
	if s.ReceiveBuffer > 0 {
		b.WriteString(":rcvbuf=" + formatSize(s.ReceiveBuffer))
	}
	return b.String()
}
