package reactor_test

import (
	"errors"
	"testing"

	"github.com/whirl-go/whirl/endpoint"
	"github.com/whirl-go/whirl/reactor"
)

func TestUDPAddress(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"udp:9000", ":9000", nil},
		{"udp:9000:interface=127.0.0.1", "127.0.0.1:9000", nil},
		{"UDP:port=53:interface=::1", "[::1]:53", nil},
		{"127.0.0.1:9000", "127.0.0.1:9000", nil},
		{"localhost:9000", "localhost:9000", nil},
		{"tcp:9000", "", endpoint.ErrUnsupported},
		{"udp:99999", "", endpoint.ErrSyntax},
	} {
		got, err := reactor.UDPAddress(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("UDPAddress(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
