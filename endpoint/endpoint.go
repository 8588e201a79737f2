package endpoint

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Errors reported by [Parse], always wrapped in a [*ParseError]; test for
// them with [errors.Is].
var (
	// ErrSyntax means the string is not a valid endpoint or host:port: a
	// missing or out-of-range port, an unknown or repeated keyword, an
	// interface that is neither an IP address nor a host name, a bad escape.
	ErrSyntax = errors.New("endpoint: syntax error")
	// ErrUnsupported means the string names an endpoint type whirl cannot
	// listen on (yet), such as udp or unix.
	ErrUnsupported = errors.New("endpoint: unsupported endpoint type")
)

// ParseError is the error [Parse] returns. It wraps [ErrSyntax] or
// [ErrUnsupported].
type ParseError struct {
	// Input is the string given to Parse.
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

// Spec is a parsed listen address.
type Spec struct {
	// Network is the network to listen on; always "tcp" for now.
	Network string
	// Addr is the address in Go's "host:port" form, with IPv6 hosts in
	// brackets and an empty host for every interface: ":8000",
	// "127.0.0.1:8000", "[::1]:8000". A host named like an endpoint type is
	// bracketed too ("[tcp]:8000"), so that Parse reads Addr back as the
	// same address. net.SplitHostPort accepts it and its port is a decimal
	// number from 0 to 65535.
	Addr string
	// Backlog is the listen backlog the string asked for, or 0 when it did
	// not give one (the listener's default then applies).
	Backlog int
}

// unsupported lists Twisted's other server endpoint types. A string starting
// with one of them and a colon is refused with ErrUnsupported rather than
// taken for a host name.
var unsupported = map[string]bool{
	"tcp6":    true,
	"udp":     true,
	"unix":    true,
	"ssl":     true,
	"tls":     true,
	"systemd": true,
	"stdio":   true,
	"onion":   true,
}

// Parse parses a listen address in Twisted's endpoint syntax ("tcp:8000",
// "tcp:8000:interface=127.0.0.1", "tcp:port=8000:backlog=128") or a plain
// "host:port" ("127.0.0.1:8000", "[::1]:0", ":8000"); the package
// documentation lists the rules. The error is a [*ParseError] wrapping
// [ErrSyntax] or [ErrUnsupported]. Parse does no name resolution. Any
// goroutine may call it.
func Parse(s string) (Spec, error) {
	if s == "" {
		return Spec{}, syntaxError(s, "empty address")
	}
	typ, rest, hasColon := strings.Cut(s, ":")
	switch {
	case strings.EqualFold(typ, "tcp"):
		return parseTCP(s)
	case hasColon && unsupported[strings.ToLower(typ)]:
		return Spec{}, &ParseError{Input: s, Reason: "endpoint type " + strconv.Quote(typ) + " is not supported", Err: ErrUnsupported}
	}
	if looksLikeBareIPv6(s) {
		return Spec{}, syntaxError(s, "an IPv6 address needs brackets, as in [::1]:8000")
	}
	if hasColon && isTypeName(typ) && strings.ContainsAny(rest, ":=\\") {
		return Spec{}, &ParseError{Input: s, Reason: "unknown endpoint type " + strconv.Quote(typ), Err: ErrUnsupported}
	}
	return parseHostPort(s)
}

// parseHostPort validates a plain "host:port".
func parseHostPort(s string) (Spec, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return Spec{}, syntaxError(s, "not host:port: "+ae.Err)
		}
		return Spec{}, syntaxError(s, "not host:port")
	}
	if reason := checkHost(host); reason != "" {
		return Spec{}, syntaxError(s, "host "+reason)
	}
	p, reason := parsePort(port)
	if reason != "" {
		return Spec{}, syntaxError(s, reason)
	}
	return Spec{Network: "tcp", Addr: joinHostPort(host, p)}, nil
}

// tcpParams are the parameters of a tcp endpoint, in Twisted's positional
// order.
var tcpParams = [...]string{"port", "interface", "backlog"}

// parseTCP parses "tcp:..." (s starts with the type name).
func parseTCP(s string) (Spec, error) {
	args, reason := tokenize(s)
	if reason != "" {
		return Spec{}, syntaxError(s, reason)
	}
	var (
		values [len(tcpParams)]string
		given  [len(tcpParams)]bool
		next   int  // the next positional parameter
		joined bool // an unescaped IPv6 interface took arguments after it
	)
	args = args[1:]
	for j := 0; j < len(args); j++ {
		a := args[j]
		if a.keyed && a.key == "interface" && !a.escaped {
			if v, n := joinIPv6(a.value, args[j+1:]); n > 0 {
				a.value = v
				j += n
				joined = true
			}
		}
		i := next
		if a.keyed {
			if a.key == "" {
				return Spec{}, syntaxError(s, "empty keyword before "+strconv.Quote("="+a.value))
			}
			i = indexOf(a.key)
			if i < 0 {
				return Spec{}, syntaxError(s, "unknown keyword "+strconv.Quote(a.key)+" (want port, interface or backlog)")
			}
		} else {
			if next >= len(tcpParams) {
				return Spec{}, syntaxError(s, "too many arguments (want port, interface, backlog)")
			}
			next++
		}
		if given[i] {
			return Spec{}, syntaxError(s, tcpParams[i]+" given twice")
		}
		values[i], given[i] = a.value, true
	}

	if !given[0] {
		if joined {
			return Spec{}, syntaxError(s, `missing port (the IPv6 interface took the parts after it; give the port first or write its colons as \:)`)
		}
		return Spec{}, syntaxError(s, "missing port")
	}
	port, reason := parsePort(values[0])
	if reason != "" {
		return Spec{}, syntaxError(s, reason)
	}
	iface := values[1]
	if reason := checkHost(iface); reason != "" {
		return Spec{}, syntaxError(s, "interface "+reason)
	}
	backlog := 0
	if given[2] {
		b, ok := parseDecimal(values[2], math.MaxInt32)
		if !ok || b == 0 {
			return Spec{}, syntaxError(s, "backlog "+strconv.Quote(values[2])+" is not a number from 1 to 2147483647")
		}
		backlog = b
	}
	return Spec{Network: "tcp", Addr: joinHostPort(iface, port), Backlog: backlog}, nil
}

func indexOf(key string) int {
	for i, name := range tcpParams {
		if key == name {
			return i
		}
	}
	return -1
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

// joinHostPort makes Spec.Addr. Like net.JoinHostPort it brackets IPv6
// hosts; it also brackets a host named like an endpoint type ("tcp", "udp",
// ...), so that the address reads back as that host and not as an endpoint
// string: "tcp:8000:interface=tcp" gives "[tcp]:8000", not "tcp:8000" (port
// 8000 on every interface). net.SplitHostPort, and so net.Listen, take the
// brackets off.
func joinHostPort(host string, port int) string {
	if l := strings.ToLower(host); l == "tcp" || unsupported[l] {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
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
