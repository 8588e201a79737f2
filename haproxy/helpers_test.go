package haproxy_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"net"
	"sync/atomic"
	"testing"

	"github.com/pires/go-proxyproto"

	"github.com/whirl-go/whirl/haproxy"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// recorder records what its connection tells it, and the addresses its
// transport reports in ConnectionMade.
type recorder struct {
	protocol.Base
	made           int
	remote, local  net.Addr
	data           []byte
	dataBeforeMade bool
	lost           []error
	onMade         func(r *recorder)
}

func (r *recorder) ConnectionMade() {
	r.made++
	r.remote = r.Transport().RemoteAddr()
	r.local = r.Transport().LocalAddr()
	if r.onMade != nil {
		r.onMade(r)
	}
}

func (r *recorder) DataReceived(data []byte) {
	if r.made == 0 {
		r.dataBeforeMade = true
	}
	r.data = append(r.data, data...)
}

func (r *recorder) ConnectionLost(reason error) { r.lost = append(r.lost, reason) }

// testFactory builds recorders and records the address each BuildProtocol
// got. Safe from one goroutine at a time (the tests' own).
type testFactory struct {
	starts, stops atomic.Int32
	addrs         []net.Addr
	built         []*recorder
	refuse        bool
	onMade        func(r *recorder)
}

func (f *testFactory) BuildProtocol(addr net.Addr) protocol.Protocol {
	f.addrs = append(f.addrs, addr)
	if f.refuse {
		return nil
	}
	r := &recorder{onMade: f.onMade}
	f.built = append(f.built, r)
	return r
}

func (f *testFactory) StartFactory() { f.starts.Add(1) }
func (f *testFactory) StopFactory()  { f.stops.Add(1) }

// conn is one connection of a wrapping factory over a transporttest
// transport, fed as the reactor feeds it: nothing after the transport
// started closing.
type conn struct {
	t  *testing.T
	tr *transporttest.Transport
	w  *haproxy.ProtocolWrapper
}

func open(t *testing.T, f *haproxy.WrappingFactory) *conn {
	t.Helper()
	tr := transporttest.New()
	w, ok := f.BuildProtocol(tr.RemoteAddr()).(*haproxy.ProtocolWrapper)
	if !ok {
		t.Fatal("BuildProtocol did not return a *ProtocolWrapper")
	}
	protocol.MakeConnection(w, tr)
	return &conn{t: t, tr: tr, w: w}
}

// feed delivers data in pieces of size bytes (0: whole), stopping once the
// transport is closing or paused, as the reactor does. It returns how many
// bytes it delivered.
func (c *conn) feed(data []byte, size int) int {
	n := 0
	for _, piece := range transporttest.Chunks(data, size) {
		if c.tr.Disconnecting() || c.tr.Paused() {
			break
		}
		c.w.DataReceived(piece)
		n += len(piece)
	}
	return n
}

// v2 builds a v2 header with go-proxyproto.
func v2(t testing.TB, cmd proxyproto.ProtocolVersionAndCommand, fam proxyproto.AddressFamilyAndProtocol, src, dst net.Addr, tlvs ...proxyproto.TLV) []byte {
	t.Helper()
	h := &proxyproto.Header{Version: 2, Command: cmd, TransportProtocol: fam, SourceAddr: src, DestinationAddr: dst}
	if len(tlvs) > 0 {
		if err := h.SetTLVs(tlvs); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withCRC appends a PP2_TYPE_CRC32C TLV to the v2 header b and fills it in;
// bad makes the checksum wrong.
func withCRC(b []byte, bad bool) []byte {
	b = append(bytes.Clone(b), byte(proxyproto.PP2_TYPE_CRC32C), 0, 4, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[14:16], uint16(len(b)-16))
	sum := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	if bad {
		sum++
	}
	binary.BigEndian.PutUint32(b[len(b)-4:], sum)
	return b
}

func tcp(ip string, port int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.ParseIP(ip), Port: port}
}

func sameAddr(a, b net.Addr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Network() == b.Network() && a.String() == b.String()
}
