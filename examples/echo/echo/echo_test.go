package echo_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/whirl-go/whirl/examples/echo/echo"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestEcho(t *testing.T) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"line", []byte("hello, world\n")},
		{"binary", []byte{0, 1, 2, 0xff, '\r', '\n', 0}},
		{"4KiB", bytes.Repeat([]byte("0123456789abcdef"), 256)},
	}
	for _, in := range inputs {
		for _, size := range transporttest.ChunkSizes {
			t.Run(fmt.Sprintf("%s/chunk=%d", in.name, size), func(t *testing.T) {
				tr := transporttest.New()
				p := &echo.Echo{}
				protocol.MakeConnection(p, tr)
				for _, piece := range transporttest.Chunks(in.data, size) {
					p.DataReceived(piece)
				}
				if got := tr.Value(); !bytes.Equal(got, in.data) {
					t.Errorf("wrote %q, want %q", got, in.data)
				}
				if !tr.Connected() {
					t.Error("not connected after echoing, want connected")
				}
			})
		}
	}
}

// TestEchoDoesNotKeepData checks that Echo does not hold on to the buffer it
// is given: the loop reuses it once DataReceived returns.
func TestEchoDoesNotKeepData(t *testing.T) {
	tr := transporttest.New()
	p := &echo.Echo{}
	protocol.MakeConnection(p, tr)
	buf := []byte("first")
	p.DataReceived(buf)
	copy(buf, "XXXXX")
	p.DataReceived([]byte("second"))
	if got, want := string(tr.Value()), "firstsecond"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func TestEchoAfterClose(t *testing.T) {
	tests := []struct {
		name  string
		close func(transport.Transport)
	}{
		{"LoseConnection", transport.Transport.LoseConnection},
		{"AbortConnection", transport.Transport.AbortConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			p := &echo.Echo{}
			protocol.MakeConnection(p, tr)
			p.DataReceived([]byte("before"))
			tt.close(tr)
			p.DataReceived([]byte("after")) // must not panic
			if got, want := string(tr.Value()), "before"; got != want {
				t.Errorf("wrote %q, want %q", got, want)
			}
			p.ConnectionLost(transport.ErrConnectionDone)
		})
	}
}

func TestFactory(t *testing.T) {
	f := echo.Factory()
	f.StartFactory()
	defer f.StopFactory()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	p1, p2 := f.BuildProtocol(addr), f.BuildProtocol(addr)
	for i, p := range []protocol.Protocol{p1, p2} {
		if _, ok := p.(*echo.Echo); !ok {
			t.Fatalf("BuildProtocol #%d = %T, want *echo.Echo", i+1, p)
		}
	}
	if p1 == p2 {
		t.Error("BuildProtocol returned the same protocol twice, want one per connection")
	}
}

func Example() {
	tr := transporttest.New()
	p := &echo.Echo{}
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("hello"))
	fmt.Printf("%s\n", tr.Value())
	// Output: hello
}

// TestEchoIsItsOwnProducer checks the echo registers its transport as the
// streaming producer of its output, which keeps a non-reading peer bounded.
func TestEchoIsItsOwnProducer(t *testing.T) {
	tr := transporttest.New()
	protocol.MakeConnection(&echo.Echo{}, tr)
	p, streaming := tr.Producer()
	if p != transport.Producer(tr) || !streaming {
		t.Fatalf("producer %v (streaming %v), want the transport itself, streaming", p, streaming)
	}
}
