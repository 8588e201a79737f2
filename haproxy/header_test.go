package haproxy_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/whirl-go/whirl/haproxy"
)

// TestHeaderLenByteByByte checks the framing state after every byte, as
// nats-server's parser tests do: "need more" until the header's last byte,
// then its length, whatever follows.
func TestHeaderLenByteByByte(t *testing.T) {
	for _, tc := range acceptCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			for i := 0; i < len(h); i++ {
				if n, err := haproxy.HeaderLen(h[:i]); n != 0 || err != nil {
					t.Fatalf("after %d of %d bytes: %d, %v; want 0, nil", i, len(h), n, err)
				}
			}
			if n, err := haproxy.HeaderLen(h); n != len(h) || err != nil {
				t.Fatalf("whole: %d, %v; want %d", n, err, len(h))
			}
			more := append(bytes.Clone(h), "PROXY TCP4 \r\n\r\n"...)
			if n, err := haproxy.HeaderLen(more); n != len(h) || err != nil {
				t.Fatalf("with more: %d, %v; want %d", n, err, len(h))
			}
		})
	}
}

func TestHeaderLenLimits(t *testing.T) {
	// The longest v1 header the specification allows is accepted.
	longest := []byte("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")
	if len(longest) != 107 {
		t.Fatalf("test header is %d bytes", len(longest))
	}
	if n, err := haproxy.HeaderLen(longest); n != 107 || err != nil {
		t.Errorf("107-byte v1: %d, %v", n, err)
	}
	long := append([]byte("PROXY UNKNOWN "), bytes.Repeat([]byte("f"), 92)...)
	long = append(long, '\r', '\n') // 108 bytes
	if _, err := haproxy.HeaderLen(long); !errors.Is(err, haproxy.ErrHeaderTooLarge) {
		t.Errorf("108-byte v1: %v", err)
	}
	// A v2 length at the parser's limit waits for the bytes; one past it is
	// refused at once.
	h := append([]byte{}, proxyproto.SIGV2...)
	h = append(h, 0x21, 0x11, byte(proxyproto.MaxV2HeaderSize>>8), byte(proxyproto.MaxV2HeaderSize))
	if n, err := haproxy.HeaderLen(h); n != 0 || err != nil {
		t.Errorf("v2 at the limit: %d, %v", n, err)
	}
	over := proxyproto.MaxV2HeaderSize + 1
	h[14], h[15] = byte(over>>8), byte(over)
	if _, err := haproxy.HeaderLen(h); !errors.Is(err, haproxy.ErrHeaderTooLarge) {
		t.Errorf("v2 over the limit: %v", err)
	}
}
