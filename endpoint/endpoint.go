package endpoint

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Errors reported by [ParseServer] and [ParseClient], always wrapped in a
// [*ParseError]; test for them with [errors.Is].
var (
	// ErrSyntax means the string is not a valid endpoint or host:port: a
	// missing or out-of-range port, an unknown or repeated keyword, a value
	// of the wrong form (an interface that is neither an IP address nor a
	// host name, a bad mode, duration or size), a bad escape.
	ErrSyntax = errors.New("endpoint: syntax error")
	// ErrUnsupported means the string names an endpoint type whirl does not
	// parse (yet), such as stdio or onion, or one that exists only on the
	// other side (tcp6, udp, systemd and ssl are server types, tls a client
	// type), or a parameter whirl cannot honour (ssl's sslmethod and
	// dhParameters, tls's endpoint).
	ErrUnsupported = errors.New("endpoint: unsupported endpoint type")
)

// ParseError is the error [ParseServer] and [ParseClient] return. It wraps
// [ErrSyntax] or [ErrUnsupported].
type ParseError struct {
	// Input is the string given to the parser.
	Input string
	// Reason says what is wrong with it, in a few words.
	Reason string
	// Err is ErrSyntax or ErrUnsupported.
	Err error
}

// Error implements error. Any goroutine may call it.
func (e *ParseError) Error() string {
	return "endpoint: " + strconv.Quote(e.Input) + ": " + e.Reason
}

// Unwrap returns e.Err. Any goroutine may call it.
func (e *ParseError) Unwrap() error { return e.Err }

// Kind is the type of an endpoint: the name before the first colon of an
// endpoint string.
type Kind uint8

// The endpoint types. The zero Kind is none of them.
const (
	// TCP is a TCP socket, IPv4 or IPv6 ("tcp:8080").
	TCP Kind = iota + 1
	// TCP6 is an IPv6-only TCP socket ("tcp6:8080").
	TCP6
	// UNIX is a UNIX-domain stream socket ("unix:/run/app.sock").
	UNIX
	// UDP is a UDP socket ("udp:9000"); servers only.
	UDP
	// Systemd is a listening socket inherited from systemd's socket
	// activation ("systemd:domain=INET:index=0"); servers only.
	Systemd
	// SSL is a TLS server over TCP
	// ("ssl:443:privateKey=key.pem:certKey=cert.pem"); servers only, as in
	// Twisted.
	SSL
	// TLS is a TLS client over TCP ("tls:example.com:443"); clients only,
	// as in Twisted.
	TLS
)

// String returns the type name as an endpoint string writes it ("tcp",
// "tcp6", "unix", "udp", "systemd", "ssl", "tls"), or "Kind(n)" for a value that is none
// of them. Any goroutine may call it.
func (k Kind) String() string {
	switch k {
	case TCP:
		return "tcp"
	case TCP6:
		return "tcp6"
	case UNIX:
		return "unix"
	case UDP:
		return "udp"
	case Systemd:
		return "systemd"
	case SSL:
		return "ssl"
	case TLS:
		return "tls"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// typeNames are the lower-case type names of every endpoint type whirl
// knows of, with whether it can parse it. A string starting with one of them
// and a colon is an endpoint string, never a host:port.
var typeNames = map[string]bool{
	"tcp":     true,
	"tcp6":    true,
	"unix":    true,
	"udp":     true,
	"systemd": true,
	"haproxy": true, // servers only; ParseServer reads the prefix before split
	"ssl":     true,
	"tls":     true,
	"stdio":   false,
	"onion":   false,
	"tor":     false,
}

// split classifies s by its type name: the lower-cased name when s is an
// endpoint string of a known type (with or without arguments), "" with a
// non-empty reason for an unknown or unparsed type, and "", "" for a
// string to read as a plain host:port.
func split(s string) (typ string, unsupported string) {
	name, rest, hasColon := strings.Cut(s, ":")
	lower := strings.ToLower(name)
	parsed, known := typeNames[lower]
	switch {
	case parsed:
		return lower, ""
	case known && hasColon:
		return "", "endpoint type " + strconv.Quote(name) + " is not supported yet"
	case hasColon && isTypeName(name) && strings.ContainsAny(rest, ":=\\") && !looksLikeBareIPv6(s):
		return "", "unknown endpoint type " + strconv.Quote(name)
	}
	return "", ""
}

// arg is one colon-separated argument of an endpoint string, unescaped.
type arg struct {
	key     string
	value   string
	keyed   bool // key=value rather than a positional value
	escaped bool // a backslash escape was used in it
}

// tokenize splits s at unescaped colons, as Twisted's endpoint parser does:
// the first unescaped "=" of an argument separates its keyword from its value
// (later ones belong to the value), and a backslash escapes ":", "=" or "\".
// It returns a reason instead of arguments when an escape is bad.
func tokenize(s string) ([]arg, string) {
	var (
		args []arg
		cur  strings.Builder
		a    arg
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return nil, "backslash at the end"
			}
			i++
			a.escaped = true
			switch e := s[i]; e {
			case ':', '=', '\\':
				cur.WriteByte(e)
			default:
				return nil, "bad escape " + strconv.Quote(s[i-1:i+1]) + ` (only \:, \= and \\ are allowed)`
			}
		case ':':
			a.value = cur.String()
			args = append(args, a)
			a = arg{}
			cur.Reset()
		case '=':
			if a.keyed {
				cur.WriteByte(c)
				break
			}
			a.key, a.keyed = cur.String(), true
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	a.value = cur.String()
	return append(args, a), ""
}

// quote escapes v for an endpoint string: the inverse of tokenize for one
// value.
func quote(v string) string {
	if !strings.ContainsAny(v, `\:=`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\\' || c == ':' || c == '=' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// schema describes the parameters of one endpoint type.
type schema struct {
	typ   string   // the type name, for messages
	names []string // every parameter
	npos  int      // the first npos names may also be given by position
	// free makes positional arguments fill the positions no keyword took, as
	// Twisted's client parsers do ("tcp:host=h:80" gives the port); else the
	// n-th positional argument is the n-th parameter, as in a Python call and
	// Twisted's server parsers.
	free bool
	// ipv6 names the keywords whose value may be an IPv6 address written
	// without escapes.
	ipv6 []string
}

// params are the values bound to a schema's parameters.
type params struct {
	vals map[string]string
	// joined is set when an unescaped IPv6 value took the arguments after
	// it.
	joined bool
}

func (p *params) get(name string) (string, bool) {
	v, ok := p.vals[name]
	return v, ok
}

// bind binds args (the arguments after the type name) to sc's parameters,
// returning a reason when it cannot: an unknown, empty or repeated keyword,
// or too many positional arguments.
func (sc *schema) bind(args []arg) (params, string) {
	p := params{vals: make(map[string]string, len(args))}
	var free []string
	next := 0
	for j := 0; j < len(args); j++ {
		a := args[j]
		if a.keyed && !a.escaped && contains(sc.ipv6, a.key) {
			if v, n := joinIPv6(a.value, args[j+1:]); n > 0 {
				a.value = v
				j += n
				p.joined = true
			}
		}
		var name string
		switch {
		case a.keyed && a.key == "":
			return p, "empty keyword before " + strconv.Quote("="+a.value)
		case a.keyed && !contains(sc.names, a.key):
			reason := "unknown keyword " + strconv.Quote(a.key) + " (" + sc.typ + " takes " + list(sc.names, "and") + ")"
			if !isTypeName(a.key) {
				reason += `; write an "=" that is part of a value as \=`
			}
			return p, reason
		case a.keyed:
			name = a.key
		case sc.free:
			free = append(free, a.value)
			continue
		case next >= sc.npos:
			return p, sc.tooMany()
		default:
			name = sc.names[next]
			next++
		}
		if _, dup := p.vals[name]; dup {
			return p, name + " given twice"
		}
		p.vals[name] = a.value
	}
	var keyed []string // the positions keywords took
	for _, n := range sc.names[:sc.npos] {
		if p.has(n) {
			keyed = append(keyed, n)
		}
	}
	i := 0
	for _, v := range free {
		for i < sc.npos && p.has(sc.names[i]) {
			i++
		}
		if i == sc.npos {
			reason := sc.tooMany()
			if len(keyed) > 0 {
				as := " also given as a keyword)"
				if len(keyed) > 1 {
					as = " also given as keywords)"
				}
				reason = strings.TrimSuffix(reason, ")") + "; " + list(keyed, "and") + as
			}
			return p, reason
		}
		p.vals[sc.names[i]] = v
		i++
	}
	return p, ""
}

func (p *params) has(name string) bool {
	_, ok := p.vals[name]
	return ok
}

func (sc *schema) tooMany() string {
	return "too many arguments (" + sc.typ + " takes " + list(sc.names[:sc.npos], "and") + " by position)"
}

// list writes names as "a, b and c".
func list(names []string, and string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + and + " " + names[len(names)-1]
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// joinIPv6 lets "interface=::1" be written without escapes: it joins value
// with the longest run of the unkeyed, unescaped arguments after it that makes
// an IPv6 address, and returns that address and how many arguments it took
// (0 when none makes one).
func joinIPv6(value string, after []arg) (string, int) {
	best, n := "", 0
	joined := value
	for k, a := range after {
		if a.keyed || a.escaped {
			break
		}
		joined += ":" + a.value
		if ip, err := netip.ParseAddr(joined); err == nil && ip.Is6() {
			best, n = joined, k+1
		}
	}
	return best, n
}

// missingPort is the reason for a string with no port. When an unescaped
// IPv6 value took the arguments after it, the port may be among them.
func missingPort(p *params) string {
	if p.joined {
		return `missing port (the IPv6 address took the parts after it; give the port first or write its colons as \:)`
	}
	return "missing port"
}

// parsePort parses a decimal port from 0 to 65535, returning a reason when it
// is not one.
func parsePort(s string) (int, string) {
	if s == "" {
		return 0, "missing port"
	}
	p, ok := parseDecimal(s, 65535)
	if !ok {
		return 0, "port " + strconv.Quote(s) + " is not a number from 0 to 65535"
	}
	return p, ""
}

// parseDecimal parses s made of ASCII digits only (no sign, no spaces) as a
// number no larger than limit.
func parseDecimal(s string, limit int) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > limit {
			return 0, false
		}
	}
	return n, true
}

// parseBacklog parses a listen backlog from 1 to 2147483647.
func parseBacklog(v string) (int, string) {
	b, ok := parseDecimal(v, math.MaxInt32)
	if !ok || b == 0 {
		return 0, "backlog " + strconv.Quote(v) + " is not a number from 1 to 2147483647"
	}
	return b, ""
}

// parseFlag parses Twisted's boolean arguments, "0" or "1".
func parseFlag(name, v string) (bool, string) {
	switch v {
	case "0":
		return false, ""
	case "1":
		return true, ""
	}
	return false, name + " " + strconv.Quote(v) + " is not 0 or 1"
}

// parseDuration parses a positive duration: a number of seconds ("5",
// "1.5", as Twisted's timeout) or a Go duration ("1.5s", "5m", "250ms").
func parseDuration(name, v string) (time.Duration, string) {
	bad := name + " " + strconv.Quote(v) + " is not a duration (seconds, as 30, or a Go duration, as 1.5s or 5m)"
	s := v
	if isSeconds(v) {
		s += "s"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	if d <= 0 {
		return 0, name + " " + strconv.Quote(v) + " is not a positive duration"
	}
	return d, ""
}

// isSeconds reports whether v is a plain decimal number: digits with at
// most one ".".
func isSeconds(v string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// formatDuration writes d as parseDuration reads it: whole seconds as a
// plain number, as Twisted writes a timeout, anything else as a Go
// duration.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// sizeUnits are the suffixes parseSize accepts, largest first.
var sizeUnits = [...]struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}}

// parseSize parses a positive number of bytes, with an optional KiB, MiB or
// GiB suffix ("65536", "64KiB", "16MiB").
func parseSize(name, v string) (int, string) {
	num, shift := v, uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, ok := parseDecimal(num, math.MaxInt>>shift)
	if !ok || n == 0 {
		return 0, name + " " + strconv.Quote(v) + " is not a positive size (bytes, or a number with KiB, MiB or GiB)"
	}
	return n << shift, ""
}

// formatSize writes n as parseSize reads it, in the largest unit that
// divides it.
func formatSize(n int) string {
	for _, u := range sizeUnits {
		if n>>u.shift > 0 && n&(1<<u.shift-1) == 0 {
			return strconv.Itoa(n>>u.shift) + u.suffix
		}
	}
	return strconv.Itoa(n)
}

// parseMode parses a file mode in octal ("660", "0660"), 0777 at most.
func parseMode(v string) (os.FileMode, string) {
	if v == "" || len(v) > 4 {
		return 0, "mode " + strconv.Quote(v) + " is not an octal mode from 0 to 777"
	}
	m := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '7' {
			return 0, "mode " + strconv.Quote(v) + " is not an octal mode from 0 to 777"
		}
		m = m*8 + int(c-'0')
	}
	if m > 0o777 {
		return 0, "mode " + strconv.Quote(v) + " is not an octal mode from 0 to 777"
	}
	return os.FileMode(m), ""
}

// checkPath checks a UNIX socket path: not empty, no NUL byte, and an
// abstract name ("@name") not empty.
func checkPath(p string) string {
	switch {
	case p == "":
		return "empty path"
	case p == "@":
		return `empty abstract socket name (write "@name")`
	case strings.IndexByte(p, 0) >= 0:
		return "path " + strconv.Quote(p) + " contains a NUL byte"
	}
	return ""
}

// isAbstract reports whether p names a socket in Linux's abstract
// namespace.
func isAbstract(p string) bool { return strings.HasPrefix(p, "@") }

// joinHostPort makes an Addr. Like net.JoinHostPort it brackets IPv6 hosts;
// it also brackets a host named like an endpoint type ("tcp", "unix", ...),
// so that the address reads back as that host and not as an endpoint
// string: "tcp:8000:interface=tcp" gives "[tcp]:8000", not "tcp:8000" (port
// 8000 on every interface). net.SplitHostPort, and so net.Listen, take the
// brackets off.
func joinHostPort(host string, port int) string {
	if _, known := typeNames[strings.ToLower(host)]; known {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// splitHostPort splits a plain "host:port", returning a reason when it is
// not one or its host or port is bad.
func splitHostPort(s string) (string, int, string) {
	if looksLikeBareIPv6(s) {
		return "", 0, "an IPv6 address needs brackets, as in [::1]:8000"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return "", 0, "not host:port: " + ae.Err
		}
		return "", 0, "not host:port"
	}
	if reason := checkHost(host); reason != "" {
		return "", 0, "host " + reason
	}
	p, reason := parsePort(port)
	if reason != "" {
		return "", 0, reason
	}
	return host, p, ""
}

// checkHost accepts "" (every interface), an IP address (IPv6 with a zone
// made of letters, digits, ".", "_" or "-") or a host name, and otherwise
// returns the reason it is not one.
func checkHost(h string) string {
	if h == "" {
		return ""
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if !validZone(ip.Zone()) {
			return strconv.Quote(h) + " has a bad zone"
		}
		return ""
	}
	if !validHostname(h) {
		return strconv.Quote(h) + " is not an IP address or host name"
	}
	return ""
}

// checkIP accepts an IP address only, as checkHost does.
func checkIP(h string) string {
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return strconv.Quote(h) + " is not an IP address"
	}
	if !validZone(ip.Zone()) {
		return strconv.Quote(h) + " has a bad zone"
	}
	return ""
}

func validZone(z string) bool {
	for i := 0; i < len(z); i++ {
		if !isAlnum(z[i]) && z[i] != '.' && z[i] != '_' && z[i] != '-' {
			return false
		}
	}
	return true
}

// validHostname reports whether h is a host name: dot-separated labels of 1
// to 63 letters, digits, "-" or "_", not starting or ending with "-", 253
// bytes at most, with an optional final dot. A name whose last label is all
// digits is refused: it would be a malformed IPv4 address.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' && l[i] != '_' {
				return false
			}
		}
	}
	_, numeric := parseDecimal(labels[len(labels)-1], math.MaxInt)
	return !numeric
}

// isTypeName reports whether s could be the type name of an endpoint string:
// a letter followed by letters and digits.
func isTypeName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// looksLikeBareIPv6 reports whether s is an IPv6 address, or one followed
// by ":port", written without the brackets host:port needs.
func looksLikeBareIPv6(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return strings.Contains(s, ":")
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return false
	}
	ip, err := netip.ParseAddr(s[:i])
	return err == nil && ip.Is6()
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isAlnum(c byte) bool { return isLetter(c) || '0' <= c && c <= '9' }

func syntaxError(s, reason string) error {
	return &ParseError{Input: s, Reason: reason, Err: ErrSyntax}
}

func unsupportedError(s, reason string) error {
	return &ParseError{Input: s, Reason: reason, Err: ErrUnsupported}
}

// IsType reports whether name (in any case) is the type name of an endpoint
// whirl knows of ("tcp", "udp", "unix", "ssl", ...), parsed or not: a string
// that starts with it and a colon is an endpoint string, not a host:port.
// Any goroutine.
func IsType(name string) bool {
	_, ok := typeNames[strings.ToLower(name)]
	return ok
}
