package endpoint_test

import (
	"errors"
	"testing"

	"github.com/whirl-go/whirl/endpoint"
)

func TestParseServerHAProxy(t *testing.T) {
	tests := []struct {
		in, want string
		kind     endpoint.Kind
		addr     string
	}{
		{"haproxy:tcp:8080", "haproxy:tcp:8080", endpoint.TCP, ":8080"},
		{"HAProxy:tcp:8080:interface=127.0.0.1:idle=5m", "haproxy:tcp:8080:interface=127.0.0.1:idle=300", endpoint.TCP, "127.0.0.1:8080"},
		{"haproxy:tcp6:8080", "haproxy:tcp6:8080", endpoint.TCP6, "[::]:8080"},
		{"haproxy:unix:/p", "haproxy:unix:/p", endpoint.UNIX, "/p"},
		{"haproxy:systemd:domain=INET:index=0", "haproxy:systemd:domain=INET:index=0", endpoint.Systemd, ""},
		{"haproxy:127.0.0.1:8000", "haproxy:tcp:8000:interface=127.0.0.1", endpoint.TCP, "127.0.0.1:8000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := endpoint.ParseServer(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !s.HAProxy || s.Kind != tt.kind || s.Addr != tt.addr {
				t.Errorf("got %+v", s)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			back, err := endpoint.ParseServer(s.String())
			if err != nil || back != s {
				t.Errorf("round trip: %+v, %v", back, err)
			}
		})
	}
	if s, _ := endpoint.ParseServer("tcp:8080"); s.HAProxy {
		t.Error("tcp:8080 has HAProxy set")
	}
}

func TestParseHAProxyErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"haproxy:", endpoint.ErrSyntax},
		{"haproxy:tcp", endpoint.ErrSyntax},
		{"haproxy:haproxy:tcp:8080", endpoint.ErrSyntax},
		{"haproxy:udp:9000", endpoint.ErrUnsupported},
		{"haproxy:stdio:", endpoint.ErrUnsupported},
	}
	for _, tt := range tests {
		_, err := endpoint.ParseServer(tt.in)
		var pe *endpoint.ParseError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Input != tt.in {
			t.Errorf("ParseServer(%q) = %v, want %v naming the whole string", tt.in, err, tt.want)
		}
	}
	if _, err := endpoint.ParseClient("haproxy:tcp:example.com:80"); !errors.Is(err, endpoint.ErrUnsupported) {
		t.Errorf("ParseClient(haproxy:...) = %v, want ErrUnsupported", err)
	}
}
