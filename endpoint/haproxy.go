package endpoint

import "strings"

// haproxyPrefix starts a server endpoint whose connections begin with a
// PROXY protocol header: Twisted's haproxy: endpoint.
const haproxyPrefix = "haproxy:"

// cutHAProxy returns what follows "haproxy:" (in any case) in s, and whether
// s starts with it.
func cutHAProxy(s string) (string, bool) {
	if len(s) < len(haproxyPrefix) || !strings.EqualFold(s[:len(haproxyPrefix)], haproxyPrefix) {
		return "", false
	}
	return s[len(haproxyPrefix):], true
}

// parseHAProxy parses s, "haproxy:" followed by inner, a stream server
// endpoint of any other type: inner's Server with HAProxy set. Errors name
// the whole string.
func parseHAProxy(s, inner string) (Server, error) {
	if _, nested := cutHAProxy(inner); nested {
		return Server{}, syntaxError(s, "haproxy: given twice")
	}
	srv, err := ParseServer(inner)
	if pe, ok := err.(*ParseError); ok {
		pe.Input = s
		return Server{}, pe
	}
	if srv.Kind == UDP {
		return Server{}, unsupportedError(s, "haproxy: takes a stream endpoint (tcp, tcp6, unix, systemd), not udp")
	}
	srv.HAProxy = true
	return srv, nil
}
