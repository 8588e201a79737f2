package haproxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// outcome is what a connection made of some input: refused (and why),
// accepted (with which addresses and bytes after the header), or waiting.
func outcome(t *testing.T, input []byte, cuts []byte) string {
	f := &testFactory{}
	c := open(t, haproxy.Wrap(f, haproxy.WithHeaderTimeout(-1)))
	if len(cuts) == 0 {
		c.feed(input, 0)
	} else {
		for i := 0; len(input) > 0 && !c.tr.Disconnecting(); i++ {
			n := min(1+int(cuts[i%len(cuts)]%16), len(input))
			c.w.DataReceived(input[:n:n])
			input = input[n:]
		}
	}
	if len(c.tr.Value()) != 0 {
		t.Fatalf("wrote %q", c.tr.Value())
	}
	defer c.w.ConnectionLost(transport.ErrConnectionDone)
	if err := c.tr.CloseError(); err != nil {
		for _, e := range []error{haproxy.ErrMalformedHeader, haproxy.ErrHeaderTooLarge} {
			if errors.Is(err, e) {
				if len(f.addrs) != 0 {
					t.Fatal("refused after the factory was asked")
				}
				return "refused: " + e.Error()
			}
		}
		t.Fatalf("CloseError = %v, of no known kind", err)
	}
	if c.tr.Disconnecting() {
		t.Fatal("closed without a reason")
	}
	if len(f.built) == 0 {
		if len(f.addrs) != 0 {
			t.Fatal("factory asked but nothing built")
		}
		return "waiting"
	}
	r := f.built[0]
	if r.made != 1 || r.dataBeforeMade {
		t.Fatalf("made %d, data before made %v", r.made, r.dataBeforeMade)
	}
	if r.remote == nil || r.local == nil {
		t.Fatal("nil address in ConnectionMade")
	}
	return fmt.Sprintf("accepted: %s %s %s %s %q", r.remote.Network(), r.remote, r.local.Network(), r.local, r.data)
}

// FuzzWrapper feeds arbitrary input, cut into arbitrary segments, to a
// wrapper: it never panics, never writes, refuses only with a typed reason,
// and ends the same way as with the input whole.
func FuzzWrapper(f *testing.F) {
	for _, tc := range acceptCases(&testing.T{}) {
		f.Add(append(bytes.Clone(tc.header), "data"...), []byte{0})
		f.Add(tc.header[:len(tc.header)-1], []byte{3, 1})
	}
	for _, tc := range refuseCases(&testing.T{}) {
		f.Add(tc.input, []byte{2})
	}
	f.Add(append(proxyproto.SIGV2, 0x21, 0x12, 0, 12), []byte{})
	f.Fuzz(func(t *testing.T, input, cuts []byte) {
		whole := outcome(t, input, nil)
		if cut := outcome(t, input, cuts); cut != whole {
			t.Fatalf("cut into pieces: %s\nwhole: %s", cut, whole)
		}
		for _, size := range transporttest.ChunkSizes[:3] {
			if got := outcome(t, input, []byte{byte(size - 1)}); got != whole {
				t.Fatalf("%d bytes at a time: %s\nwhole: %s", size, got, whole)
			}
		}
	})
}
