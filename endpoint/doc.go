// Package endpoint parses endpoint strings, the addresses Twisted's
// serverFromString and clientFromString take ("tcp:8080",
// "unix:/run/app.sock:mode=660", "tcp:host=example.com:port=80"), into plain
// values a reactor listens on or connects to: [ParseServer] gives a
// [Server], [ParseClient] a [Client]. Both also accept a plain Go
// "host:port" as TCP. Each value's String method writes it back in the
// endpoint syntax.
//
// The package imports only the standard library, does no name resolution
// and touches no file when parsing: it checks the form of a string, not
// whether the address can be used. Only TLSConfig reads the key and
// certificate files an ssl or tls endpoint names.
//
// # Grammar
//
//	endpoint  = type { ":" argument }
//	argument  = value | keyword "=" value
//	type      = "tcp" | "tcp6" | "unix" | "udp" | "systemd" | "ssl" | "tls"  (any case)
//	server    = [ "haproxy:" ] endpoint                      (any case)
//
// An argument is a value, given by position, or keyword=value; the first
// unescaped "=" ends the keyword and later ones belong to the value. A
// backslash escapes the next character of a keyword or value; only `\:`,
// `\=` and `\\` are accepted, so `tcp6:8080:interface=\:\:1` means the
// interface ::1 and `unix:/tmp/a\:b` the file /tmp/a:b. Keywords are
// matched with case (checkPID, bindAddress), type names without.
//
// As in a Python call, and so in Twisted, a server's n-th positional value
// is its n-th parameter, in the order the tables below list them, and any
// parameter may instead be given as a keyword; giving one twice is an
// error. A client's positional values fill the parameters no keyword gave,
// in order ("tcp:host=example.com:80" gives the port), as Twisted's client
// parsers do. Keywords a type does not take are refused.
//
// For convenience an IPv6 address given as a keyword (a server's
// interface=, a client's host= and bindAddress=) may also be written
// without escapes, as in tcp:port=8080:interface=::1: the value then takes
// as many of the colon-separated parts after it as make an IPv6 address, so
// write the port before it (or escape the colons) when the port is
// positional.
//
// # Servers
//
//	string                                   Kind     Network  Addr
//	tcp:8080                                 TCP      tcp      :8080            every interface
//	tcp:8080:interface=127.0.0.1:backlog=50  TCP      tcp      127.0.0.1:8080
//	tcp:port=80                              TCP      tcp      :80
//	tcp:8080:127.0.0.1:50                    TCP      tcp      127.0.0.1:8080   positional: port, interface, backlog
//	tcp:port=8080:interface=::1              TCP      tcp      [::1]:8080
//	tcp6:8080                                TCP6     tcp6     [::]:8080        IPv6 only
//	tcp6:8080:interface=\:\:1                TCP6     tcp6     [::1]:8080       positional: port, backlog, interface
//	unix:/run/app.sock                       UNIX     unix     /run/app.sock    mode 0666, lockfile on
//	unix:address=/run/app.sock:mode=660:backlog=50:lockfile=0
//	                                         UNIX     unix     /run/app.sock    positional: address, mode, backlog, lockfile
//	unix:@app                                UNIX     unix     @app             Linux abstract namespace
//	udp:9000                                 UDP      udp      :9000
//	udp:9000:interface=127.0.0.1             UDP      udp      127.0.0.1:9000   positional: port, interface
//	systemd:domain=INET:index=0              Systemd  tcp      (none)           positional: domain, index, name
//	systemd:domain=UNIX:name=app             Systemd  unix     (none)           LISTEN_FDNAMES
//	ssl:443:privateKey=key.pem:certKey=cert.pem
//	                                         SSL      tcp      :443             positional: port, privateKey, certKey,
//	                                                                            sslmethod, interface, backlog, extraCertChain
//	ssl:443                                  SSL      tcp      :443             key and certificate in server.pem
//	127.0.0.1:8000, [::1]:0, :8000           TCP      tcp      as given
//	haproxy:tcp:8080:interface=10.0.0.5      TCP      tcp      10.0.0.5:8080    HAProxy set: PROXY protocol
//	haproxy:unix:/run/app.sock               UNIX     unix     /run/app.sock    HAProxy set
//
// The prefix "haproxy:" before any stream server endpoint (not udp) is
// Twisted's haproxy endpoint: [Server.HAProxy] is set, and the reactor reads
// a PROXY protocol header (v1 or v2) at the start of every connection before
// the factory builds its protocol, which then sees the client's address
// (package haproxy).
//
// The parameters are Twisted's: port (0 to 65535; 0 lets the system pick),
// interface (an IP address or a host name; tcp6 refuses IPv4), backlog (1
// to 2147483647; without it the reactor's default applies), address (the
// socket file), mode (octal, default 0666), lockfile (0 or 1, default 1;
// see [Server.Lockfile]), domain (INET, INET6 or UNIX), and exactly one of
// index (from 0) and name. Twisted has no udp string; whirl's takes the
// parameters of Twisted's listenUDP. ssl takes tcp's, and Twisted's
// privateKey (a PEM file, default server.pem), certKey (a PEM file of the
// certificate and its chain, default privateKey: one file holding both) and
// extraCertChain (a PEM file of more certificates);
// [Server.TLSConfig] loads them. Twisted's sslmethod and dhParameters are
// refused (ErrUnsupported): crypto/tls negotiates TLS 1.2 or 1.3 with ECDHE.
//
// whirl adds keywords of its own, options that Twisted and whirl's reactor
// set for every port, so that each port can have its own (a zero or
// missing one leaves the reactor's):
//
//	keyword         Server field       meaning                                 types
//	reuseport=1     ReusePort          SO_REUSEPORT on this port               tcp, tcp6, unix, ssl
//	idle=5m         ReadIdleTimeout    read idle timeout of its connections    tcp, tcp6, unix, systemd, ssl
//	stall=60s       WriteStallTimeout  write stall timeout of its connections  tcp, tcp6, unix, systemd, ssl
//	maxwrite=16MiB  MaxWriteBuffer     cap of each connection's output buffer  tcp, tcp6, unix, systemd, ssl
//	sndbuf=64KiB    SendBuffer         kernel send buffer (SO_SNDBUF)          tcp, tcp6, unix, ssl
//	rcvbuf=64KiB    ReceiveBuffer      kernel receive buffer (SO_RCVBUF)       tcp, tcp6, unix, ssl
//
// A duration (idle, stall, and a client's timeout) is a positive number of
// seconds ("30", "1.5"), as Twisted's timeout, or a Go duration ("1.5s",
// "5m", "250ms"). A size is a positive number of bytes, alone or followed
// by KiB, MiB or GiB ("65536", "64KiB", "16MiB").
//
// # Clients
//
//	string                                   Kind  Network  Addr
//	tcp:host=example.com:port=80             TCP   tcp      example.com:80
//	tcp:example.com:80                       TCP   tcp      example.com:80   positional: host, port
//	tcp:host=example.com:80                  TCP   tcp      example.com:80
//	tcp:host=::1:port=80                     TCP   tcp      [::1]:80         or host=\:\:1
//	tcp:example.com:80:timeout=5:bindAddress=192.0.2.1
//	                                         TCP   tcp      example.com:80
//	unix:/run/app.sock                       UNIX  unix     /run/app.sock    positional: path
//	unix:path=/run/app.sock:timeout=5:checkPID=1
//	                                         UNIX  unix     /run/app.sock    lockfile= is checkPID's other name
//	tls:example.com:443                      TLS   tcp      example.com:443  positional: host, port
//	tls:example.com:443:trustRoots=ca.pem:certificate=client.pem:privateKey=client.key
//	                                         TLS   tcp      example.com:443
//	example.com:80, [::1]:80                 TCP   tcp      as given
//
// A client needs a host and a port from 1 to 65535; bindAddress is an IP
// address (the local port is the system's choice, as in Twisted). tls takes
// tcp's parameters and Twisted's certificate (a PEM file of a client
// certificate), privateKey (its key, default certificate) and trustRoots (a
// PEM file or a directory of them: the authorities to trust instead of the
// system's); the server's certificate must name host. [Client.TLSConfig]
// loads them. Twisted's endpoint= (TLS over another endpoint) is refused.
//
// # Errors
//
// A string that cannot be parsed gives a [*ParseError] whose Reason says
// what is wrong. It wraps [ErrSyntax] for a malformed string and
// [ErrUnsupported] for an endpoint type whirl does not parse yet (stdio,
// onion, an unknown type), one that exists only for servers (tcp6, udp,
// systemd and ssl given to ParseClient) or only for clients (tls given to
// ParseServer), or a parameter whirl cannot honour.
//
// # Goroutines
//
// Everything in the package is safe to use from any goroutine.
package endpoint
