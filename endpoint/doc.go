// Package endpoint parses the listen addresses that whirl's command line and
// examples accept, in Twisted's endpoint string syntax or as a plain Go
// "host:port", into the address the reactor listens on.
//
// The accepted forms are:
//
//	tcp:8000                        port 8000 on every interface  → ":8000"
//	tcp:8000:interface=127.0.0.1    port 8000 on one interface    → "127.0.0.1:8000"
//	tcp:port=8000:interface=::1     Twisted's keyword form        → "[::1]:8000"
//	tcp:8000:backlog=128            a listen backlog, returned in [Spec.Backlog]
//	127.0.0.1:8000, [::1]:0, :8000  a plain host:port, validated and passed through
//
// As in Twisted, a tcp endpoint takes the positional arguments port,
// interface and backlog in that order, each of which may instead be given as
// a keyword; giving one twice is an error. A backslash escapes the next
// character of a value, so `tcp:8000:interface=\:\:1` means the interface
// ::1. Only `\:`, `\=` and `\\` are accepted escapes. For convenience an
// IPv6 interface given as a keyword may also be written without escapes, as
// in tcp:port=8000:interface=::1: the value then takes as many of the
// colon-separated parts after it as make an IPv6 address, so write the
// port before it (or escape the colons) when the port is positional.
//
// The type name (tcp) is matched without regard to case. Other Twisted
// endpoint types (udp, unix, ssl, ...) are reported as [ErrUnsupported].
//
// # Goroutines
//
// Everything in the package is safe to use from any goroutine.
package endpoint
