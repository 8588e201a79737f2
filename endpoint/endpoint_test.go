package endpoint_test

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/whirl-go/whirl/endpoint"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want endpoint.Spec
	}{
		// Twisted's positional form.
		{"tcp:8000", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		{"tcp:0", endpoint.Spec{Network: "tcp", Addr: ":0"}},
		{"tcp:65535", endpoint.Spec{Network: "tcp", Addr: ":65535"}},
		{"TCP:8000", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		{"tcp:08000", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		{"tcp:8000:127.0.0.1", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:8000"}},
		{"tcp:8000:127.0.0.1:128", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:8000", Backlog: 128}},
		{"tcp:8000:", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		// Keywords.
		{"tcp:8000:interface=127.0.0.1", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:8000"}},
		{"tcp:port=8000:interface=::1", endpoint.Spec{Network: "tcp", Addr: "[::1]:8000"}},
		{"tcp:interface=::1:port=8000", endpoint.Spec{Network: "tcp", Addr: "[::1]:8000"}},
		{"tcp:interface=127.0.0.1:8000", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:8000"}},
		{"tcp:8000:backlog=50", endpoint.Spec{Network: "tcp", Addr: ":8000", Backlog: 50}},
		{"tcp:backlog=1:port=0:interface=localhost", endpoint.Spec{Network: "tcp", Addr: "localhost:0", Backlog: 1}},
		{"tcp:8000:interface=", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		{"tcp:8000:interface=fe80::1%eth0", endpoint.Spec{Network: "tcp", Addr: "[fe80::1%eth0]:8000"}},
		{"tcp:port=8000:interface=2001:db8::1:2", endpoint.Spec{Network: "tcp", Addr: "[2001:db8::1:2]:8000"}},
		{"tcp:interface=::1:backlog=5:8000", endpoint.Spec{Network: "tcp", Addr: "[::1]:8000", Backlog: 5}},
		{`tcp:interface=\:\:1:8000`, endpoint.Spec{Network: "tcp", Addr: "[::1]:8000"}},
		{"tcp:interface=fe80:8000", endpoint.Spec{Network: "tcp", Addr: "fe80:8000"}},
		{"tcp:8000:interface=example.com.", endpoint.Spec{Network: "tcp", Addr: "example.com.:8000"}},
		{"tcp:8000:interface=my_service", endpoint.Spec{Network: "tcp", Addr: "my_service:8000"}},
		// Escapes.
		{`tcp:8000:interface=\:\:1`, endpoint.Spec{Network: "tcp", Addr: "[::1]:8000"}},
		{`tcp:8000:interface=\:\:ffff\:127.0.0.1`, endpoint.Spec{Network: "tcp", Addr: "[::ffff:127.0.0.1]:8000"}},
		// Plain host:port.
		{"127.0.0.1:8000", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:8000"}},
		{"[::1]:0", endpoint.Spec{Network: "tcp", Addr: "[::1]:0"}},
		{":8000", endpoint.Spec{Network: "tcp", Addr: ":8000"}},
		{"localhost:8000", endpoint.Spec{Network: "tcp", Addr: "localhost:8000"}},
		{"[localhost]:8000", endpoint.Spec{Network: "tcp", Addr: "localhost:8000"}},
		{"[unix]:8000", endpoint.Spec{Network: "tcp", Addr: "[unix]:8000"}},
		{"tcp:0:tCp", endpoint.Spec{Network: "tcp", Addr: "[tCp]:0"}},
		{"tcp:80:interface=udp", endpoint.Spec{Network: "tcp", Addr: "[udp]:80"}},
		{"[TCP]:80", endpoint.Spec{Network: "tcp", Addr: "[TCP]:80"}},
		{"[fe80::1%eth0]:80", endpoint.Spec{Network: "tcp", Addr: "[fe80::1%eth0]:80"}},
		{"127.0.0.1:007", endpoint.Spec{Network: "tcp", Addr: "127.0.0.1:7"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseError(t *testing.T) {
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
		{"udp:53", endpoint.ErrUnsupported, `"udp"`},
		{"udp:", endpoint.ErrUnsupported, `"udp"`},
		{"unix:/tmp/sock", endpoint.ErrUnsupported, `"unix"`},
		{"UNIX:/tmp/sock", endpoint.ErrUnsupported, `"UNIX"`},
		{"ssl:443:privateKey=key.pem", endpoint.ErrUnsupported, `"ssl"`},
		{"tcp6:8000", endpoint.ErrUnsupported, `"tcp6"`},
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
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, got)
			}
			if got != (endpoint.Spec{}) {
				t.Errorf("Parse(%q) returned %+v with its error, want the zero Spec", tt.in, got)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) error = %v, want one matching %v", tt.in, err, tt.want)
			}
			var pe *endpoint.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error is %T, want *endpoint.ParseError", tt.in, err)
			}
			if pe.Input != tt.in {
				t.Errorf("ParseError.Input = %q, want %q", pe.Input, tt.in)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("ParseError.Reason = %q, want it to contain %q", pe.Reason, tt.reason)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "endpoint: ") || !strings.Contains(msg, pe.Reason) {
				t.Errorf("Error() = %q, want the package prefix and the reason", msg)
			}
		})
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

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{
		"tcp:8000",
		"tcp:8000:interface=127.0.0.1",
		"tcp:port=8000:interface=::1",
		`tcp:8000:interface=\:\:1`,
		"tcp:0:127.0.0.1:50",
		"tcp:8000:backlog=128",
		"tcp:8000:interface=fe80::1%eth0",
		"127.0.0.1:8000",
		"[::1]:0",
		":8000",
		"localhost:8000",
		"udp:53",
		`tcp:\`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := endpoint.Parse(s)
		if err != nil {
			var pe *endpoint.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error is %T, want *endpoint.ParseError", s, err)
			}
			if !errors.Is(err, endpoint.ErrSyntax) && !errors.Is(err, endpoint.ErrUnsupported) {
				t.Fatalf("Parse(%q) error %v matches neither ErrSyntax nor ErrUnsupported", s, err)
			}
			return
		}
		if spec.Network != "tcp" {
			t.Errorf("Parse(%q).Network = %q, want tcp", s, spec.Network)
		}
		if spec.Backlog < 0 {
			t.Errorf("Parse(%q).Backlog = %d, want >= 0", s, spec.Backlog)
		}
		_, port, err := net.SplitHostPort(spec.Addr)
		if err != nil {
			t.Fatalf("Parse(%q).Addr = %q, which SplitHostPort refuses: %v", s, spec.Addr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 || strconv.Itoa(p) != port {
			t.Fatalf("Parse(%q).Addr = %q: port %q is not a number from 0 to 65535", s, spec.Addr, port)
		}
		// Parsing the result again gives the same address.
		again, err := endpoint.Parse(spec.Addr)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which Parse refuses: %v", s, spec.Addr, err)
		}
		if again.Addr != spec.Addr {
			t.Fatalf("Parse(Parse(%q).Addr) = %q, want %q", s, again.Addr, spec.Addr)
		}
	})
}

func ExampleParse() {
	for _, s := range []string{
		"tcp:8000",
		"tcp:8000:interface=127.0.0.1",
		`tcp:port=8000:interface=\:\:1:backlog=128`,
		"[::1]:0",
		"udp:53",
	} {
		spec, err := endpoint.Parse(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s backlog=%d\n", spec.Network, spec.Addr, spec.Backlog)
	}
	// Output:
	// tcp :8000 backlog=0
	// tcp 127.0.0.1:8000 backlog=0
	// tcp [::1]:8000 backlog=128
	// tcp [::1]:0 backlog=0
	// endpoint: "udp:53": endpoint type "udp" is not supported
}
