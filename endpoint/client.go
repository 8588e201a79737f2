package endpoint

import (
	"strconv"
	"strings"
	"time"
)

// Client is a parsed client (connecting) endpoint. Which fields apply
// depends on Kind; the others are zero. A zero option (Timeout,
// BindAddress, CheckPID) means the default.
//
// A Client is a plain value: it may be copied and compared with ==.
type Client struct {
	// Kind is TCP, UNIX or TLS.
	Kind Kind
	// Network is the network to give Go's net package: "tcp" (TCP, TLS)
	// or "unix".
	Network string
	// Addr is the address to connect to, as net.Dial takes it with
	// Network: "host:port" for TCP, with an IPv6 host in brackets
	// ("example.com:80", "[::1]:80"; a host named like an endpoint type is
	// bracketed too, as in [Server.Addr]), and Path for UNIX.
	Addr string

	// Host is the host of TCP and TLS, as written: an IP address (an IPv6 one
	// possibly with a zone) or a host name, which is not resolved here.
	Host string
	// Port is the port of TCP and TLS, from 1 to 65535.
	Port int
	// BindAddress is Twisted's bindAddress= of TCP and TLS: the local IP address
	// to connect from, with a port the system picks (as in Twisted, no
	// fixed local port). Empty means any.
	BindAddress string

	// Path is the socket file of UNIX; a name starting with "@" is in
	// Linux's abstract namespace, as in [Server.Path].
	Path string
	// CheckPID is Twisted's checkPID= (or lockfile=) of UNIX: before
	// connecting, check that the lock file Path + ".lock" that a server
	// listening with [Server.Lockfile] holds names a live process, and
	// fail at once if not.
	CheckPID bool

	// Timeout is Twisted's timeout=: how long a connection attempt may
	// take, or 0 when the string gave none: the connector's default then
	// applies (Twisted's is 30 s).
	Timeout time.Duration

	// Certificate is TLS's certificate=: the PEM file of a client
	// certificate to present, or empty for none.
	Certificate string
	// PrivateKey is TLS's privateKey=: the PEM file of the client
	// certificate's key; Certificate when not given (one file holding
	// both), as in Twisted.
	PrivateKey string
	// TrustRoots is TLS's trustRoots=: a PEM file, or a directory of PEM
	// files, of the authorities to trust instead of the system's; empty
	// for the system's.
	TrustRoots string
}

// clientSchemas are the parameters of each client type, as Twisted's
// clientFromString takes them: positional host and port (filling the ones
// no keyword gave) or path, and keywords.
var clientSchemas = map[string]*schema{
	"tcp":  {typ: "tcp", names: []string{"host", "port", "timeout", "bindAddress"}, npos: 2, free: true, ipv6: []string{"host", "bindAddress"}},
	"unix": {typ: "unix", names: []string{"path", "timeout", "checkPID", "lockfile"}, npos: 1, free: true},
	"tls":  {typ: "tls", names: []string{"host", "port", "timeout", "bindAddress", "certificate", "privateKey", "trustRoots", "endpoint"}, npos: 2, free: true, ipv6: []string{"host", "bindAddress"}},
}

// ParseClient parses a client endpoint string in Twisted's syntax
// ("tcp:host=example.com:port=80", "tcp:example.com:80",
// "unix:/run/app.sock:timeout=5", ...) or a plain "host:port"
// ("example.com:80", "[::1]:80"), which is TCP; the package documentation
// lists every form. The error is a [*ParseError] wrapping [ErrSyntax] or
// [ErrUnsupported], with the zero Client. ParseClient does no name
// resolution and touches no file. Any goroutine may call it.
func ParseClient(s string) (Client, error) {
	if s == "" {
		return Client{}, syntaxError(s, "empty address")
	}
	typ, reason := split(s)
	if reason != "" {
		return Client{}, unsupportedError(s, reason)
	}
	if typ == "" {
		host, port, reason := splitHostPort(s)
		if reason == "" {
			reason = checkClientHostPort(host, port)
		}
		if reason != "" {
			return Client{}, syntaxError(s, reason)
		}
		return Client{Kind: TCP, Network: "tcp", Addr: joinHostPort(host, port), Host: host, Port: port}, nil
	}
	sc, ok := clientSchemas[typ]
	if !ok {
		name, _, _ := strings.Cut(s, ":")
		return Client{}, unsupportedError(s, "endpoint type "+strconv.Quote(name)+" is for servers only (clients take tcp, unix and tls)")
	}
	args, reason := tokenize(s)
	if reason != "" {
		return Client{}, syntaxError(s, reason)
	}
	p, reason := sc.bind(args[1:])
	if reason != "" {
		return Client{}, syntaxError(s, reason)
	}
	var c Client
	switch typ {
	case "tcp":
		c, reason = parseClientTCP(&p)
	case "tls":
		if _, ok := p.get("endpoint"); ok {
			return Client{}, unsupportedError(s, "endpoint is not supported: tls connects over TCP")
		}
		if c, reason = parseClientTCP(&p); reason == "" {
			reason = c.parseTLS(&p)
		}
	default:
		c, reason = parseClientUNIX(&p)
	}
	if reason == "" {
		if v, ok := p.get("timeout"); ok {
			c.Timeout, reason = parseDuration("timeout", v)
		}
	}
	if reason != "" {
		return Client{}, syntaxError(s, reason)
	}
	return c, nil
}

// parseClientTCP parses the parameters of a tcp client.
func parseClientTCP(p *params) (Client, string) {
	host, _ := p.get("host")
	if host == "" {
		return Client{}, "missing host"
	}
	if reason := checkHost(host); reason != "" {
		return Client{}, "host " + reason
	}
	v, _ := p.get("port")
	if v == "" {
		return Client{}, missingPort(p)
	}
	port, reason := parsePort(v)
	if reason == "" {
		reason = checkClientHostPort(host, port)
	}
	if reason != "" {
		return Client{}, reason
	}
	c := Client{Kind: TCP, Network: "tcp", Addr: joinHostPort(host, port), Host: host, Port: port}
	if v, ok := p.get("bindAddress"); ok {
		if reason := checkIP(v); reason != "" {
			return Client{}, "bindAddress " + reason
		}
		c.BindAddress = v
	}
	return c, ""
}

// parseTLS turns a tcp client into a tls one, with its files.
func (c *Client) parseTLS(p *params) string {
	c.Kind = TLS
	c.Certificate, _ = p.get("certificate")
	c.PrivateKey = c.Certificate
	if v, ok := p.get("privateKey"); ok {
		if c.Certificate == "" {
			return "privateKey without certificate"
		}
		c.PrivateKey = v
	}
	c.TrustRoots, _ = p.get("trustRoots")
	for _, f := range []string{c.Certificate, c.PrivateKey, c.TrustRoots} {
		if strings.IndexByte(f, 0) >= 0 {
			return strconv.Quote(f) + " is not a file name"
		}
	}
	return ""
}

// checkClientHostPort refuses what a client cannot connect to: no host, or
// port 0.
func checkClientHostPort(host string, port int) string {
	switch {
	case host == "":
		return "missing host"
	case port == 0:
		return "port 0 (a client needs a port from 1 to 65535)"
	}
	return ""
}

// parseClientUNIX parses the parameters of a unix client.
func parseClientUNIX(p *params) (Client, string) {
	path, _ := p.get("path")
	if reason := checkPath(path); reason != "" {
		return Client{}, reason
	}
	c := Client{Kind: UNIX, Network: "unix", Addr: path, Path: path}
	name := "checkPID"
	v, ok := p.get(name)
	if lv, lok := p.get("lockfile"); lok {
		if ok {
			return Client{}, "checkPID and lockfile given together (lockfile is Twisted's other name for checkPID)"
		}
		name, v, ok = "lockfile", lv, true
	}
	if ok {
		check, reason := parseFlag(name, v)
		if reason != "" {
			return Client{}, reason
		}
		if check && isAbstract(path) {
			return Client{}, name + " does not apply to an abstract socket (it has no lock file)"
		}
		c.CheckPID = check
	}
	return c, ""
}

// String returns the endpoint string of c, in Twisted's syntax with the
// defaults left out, such that ParseClient(c.String()) gives c back for
// every c that ParseClient returned: "tcp:host=example.com:port=80",
// `tcp:host=\:\:1:port=80:timeout=5`, "unix:/run/app.sock:checkPID=1". A
// plain "host:port" comes back in the tcp form. It is built from Kind and
// the fields of that kind (Network and Addr are not read), and is empty for
// a Kind other than TCP, UNIX and TLS ("tls:host=example.com:port=443").
// Any goroutine may call it.
func (c Client) String() string {
	var b strings.Builder
	switch c.Kind {
	case TCP, TLS:
		b.WriteString(c.Kind.String() + ":host=" + quote(c.Host) + ":port=" + strconv.Itoa(c.Port))
		if c.BindAddress != "" {
			b.WriteString(":bindAddress=" + quote(c.BindAddress))
		}
		if c.Certificate != "" {
			b.WriteString(":certificate=" + quote(c.Certificate))
			if c.PrivateKey != c.Certificate {
				b.WriteString(":privateKey=" + quote(c.PrivateKey))
			}
		}
		if c.TrustRoots != "" {
			b.WriteString(":trustRoots=" + quote(c.TrustRoots))
		}
	case UNIX:
		b.WriteString("unix:" + quote(c.Path))
		if c.CheckPID {
			b.WriteString(":checkPID=1")
		}
	default:
		return ""
	}
	if c.Timeout > 0 {
		b.WriteString(":timeout=" + formatDuration(c.Timeout))
	}
	return b.String()
}
