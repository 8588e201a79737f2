package servers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/examples/push/push"
	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/reactor"
)

// The servers of gnet's examples (gnet-io/gnet-examples) and their whirl
// ports: each gnet one is built from the shape the example publishes (its
// event handlers, its codec's steps), not copied; docs/benchmarks.md says
// where it departs from it.
const (
	// GnetHTTP is gnet's HTTP example: a codec per connection; OnTraffic
	// parses every complete request in gnet's inbound buffer (Peek),
	// appends an answer per request, Discards what it parsed and Writes
	// the answers at once.
	GnetHTTP = "gnet-http"
	// WhirlHTTP is examples/httpplain.
	WhirlHTTP = "whirl-http"
	// GnetSimpleProto is gnet's simple-protocol server: greets, then
	// Decodes packets with Peek/Discard, Encodes each echo into a new
	// slice and Writev's them.
	GnetSimpleProto = "gnet-simpleproto"
	// WhirlSimpleProto is examples/simpleproto's server.
	WhirlSimpleProto = "whirl-simpleproto"
	// GnetPush is gnet's push example: connections in a sync.Map, the
	// engine's OnTick AsyncWrites a line to each, every PushInterval.
	GnetPush = "gnet-push"
	// WhirlPush is examples/push with Interval PushInterval.
	WhirlPush = "whirl-push"
)

// PushInterval is the tick of the push servers.
const PushInterval = 10 * time.Millisecond

// The families of servers: a scenario runs the servers of its family.
const (
	FamilyEcho        = "echo"
	FamilyUDP         = "udp"
	FamilyHTTP        = "http"
	FamilySimpleProto = "simpleproto"
	FamilyPush        = "push"
	FamilyWebSocket   = "websocket"
	// FamilyUnix is the echo over a UNIX socket (unix.go).
	FamilyUnix = "unix"
)

// Family returns the family of server kind: the load it answers. Any
// goroutine.
func Family(kind string) string {
	switch kind {
	case GnetHTTP, WhirlHTTP:
		return FamilyHTTP
	case GnetSimpleProto, WhirlSimpleProto:
		return FamilySimpleProto
	case GnetPush, WhirlPush:
		return FamilyPush
	case GnetWebSocket, WhirlWebSocket:
		return FamilyWebSocket
	case GnetUnix, WhirlUnix:
		return FamilyUnix
	}
	if UDP(kind) {
		return FamilyUDP
	}
	return FamilyEcho
}

// FamilyBaseline returns the gnet server of family fam. Any goroutine.
func FamilyBaseline(fam string) string {
	switch fam {
	case FamilyHTTP:
		return GnetHTTP
	case FamilySimpleProto:
		return GnetSimpleProto
	case FamilyPush:
		return GnetPush
	case FamilyWebSocket:
		return GnetWebSocket
	case FamilyUDP:
		return GnetUDP
	case FamilyUnix:
		return GnetUnix
	}
	return Gnet
}

// gnetexKinds are the servers of this file, added to kinds.
var gnetexKinds = map[string]serveFunc{
	GnetHTTP:         serveGnetWith(func() gnetHandler { return &gnetHTTP{} }),
	WhirlHTTP:        serveWhirlFactory(func() reactorFactory { return &httpplain.Factory{} }),
	GnetSimpleProto:  serveGnetWith(func() gnetHandler { return &gnetSimple{} }),
	WhirlSimpleProto: serveWhirlFactory(func() reactorFactory { return &simpleproto.Factory{} }),
	GnetPush:         serveGnetWith(func() gnetHandler { return &gnetPush{} }, gnet.WithTicker(true)),
	WhirlPush:        serveWhirlFactory(func() reactorFactory { return &push.Factory{Interval: PushInterval} }),
	GnetWebSocket:    serveGnetWith(func() gnetHandler { return &gnetWS{} }),
	WhirlWebSocket:   serveWhirlFactory(whirlWSFactory),
}

func init() {
	for k, fn := range gnetexKinds {
		kinds[k] = fn
	}
}

// gnetHandler is a gnet event handler whose OnBoot is gnetEcho's.
type gnetHandler interface {
	gnet.EventHandler
	echo() *gnetEcho
}

func (e *gnetEcho) echo() *gnetEcho { return e }

// serveGnetWith runs the handler mk makes on gnet's engine, as serveGnet
// runs the echo.
func serveGnetWith(mk func() gnetHandler, extra ...gnet.Option) serveFunc {
	return func(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
		return runGnet(ctx, mk(), "tcp", addr, o, ready, extra...)
	}
}

// runGnet runs h on gnet's engine at proto://addr until ctx is done, calling
// ready with the address once the engine booted (h's OnBoot is gnetEcho's).
func runGnet(ctx context.Context, h gnetHandler, proto, addr string, o Options, ready func(net.Addr), extra ...gnet.Option) error {
	e := h.echo()
	e.boot = make(chan struct{})
	done := make(chan error, 1)
	opts := append([]gnet.Option{gnet.WithNumEventLoop(o.loops()), gnet.WithLogger(quietLogger{})}, extra...)
	go func() { done <- gnet.Run(h, proto+"://"+addr, opts...) }()
	select {
	case err := <-done:
		if err == nil {
			err = errors.New("servers: gnet stopped at start")
		}
		return err
	case <-e.boot:
	}
	if e.berr != nil {
		<-done
		return e.berr
	}
	ready(e.addr)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.eng.Stop(sctx)
	<-done
	return nil
}

// serveWhirlFactory serves the factory mk makes on a reactor.
func serveWhirlFactory(mk func() reactorFactory) serveFunc {
	return func(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
		r := reactor.New(reactor.WithLoops(o.loops()))
		p, err := r.ListenTCP(addr, mk())
		if err != nil {
			return err
		}
		ready(p.Addr())
		return r.Run(ctx)
	}
}

// dateCache holds the Date header's value, formatted again when the second
// changes: the same work whirl's httpplain does (gnet's example formats it
// for every answer; see docs/benchmarks.md).
type dateCache struct {
	sec  int64
	date [29]byte
}

func (d *dateCache) now() []byte {
	t := time.Now()
	if s := t.Unix(); s != d.sec {
		d.sec = s
		t.UTC().AppendFormat(d.date[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
	}
	return d.date[:]
}

// gnetHTTP is gnet's HTTP example.
type gnetHTTP struct{ gnetEcho }

// httpCodec is a connection's parser state and output.
type httpCodec struct {
	out  []byte
	date dateCache
}

// OnOpen gives the connection its codec. gnet's loop goroutine.
func (h *gnetHTTP) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&httpCodec{})
	return nil, gnet.None
}

// OnTraffic answers every complete request buffered. gnet's loop goroutine.
func (h *gnetHTTP) OnTraffic(c gnet.Conn) gnet.Action {
	hc := c.Context().(*httpCodec)
	buf, _ := c.Peek(-1)
	used, ok := hc.answer(buf)
	if !ok {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		return gnet.Close
	}
	_, _ = c.Discard(used)
	if len(hc.out) > 0 {
		_, _ = c.Write(hc.out)
	}
	return gnet.None
}

// answer parses every complete request at the start of buf and puts an
// answer per request in hc.out. It returns the bytes used, and false for a
// malformed request.
func (hc *httpCodec) answer(buf []byte) (int, bool) {
	hc.out = hc.out[:0]
	date := hc.date.now() // once per read, as whirl's httpplain
	used := 0
	for {
		n, ok := parseRequest(buf[used:])
		if n < 0 {
			return used, false
		}
		if !ok {
			return used, true
		}
		used += n
		hc.out = append(hc.out, "HTTP/1.1 200 OK\r\nServer: gnet\r\nContent-Type: text/plain\r\nDate: "...)
		hc.out = append(hc.out, date...)
		hc.out = append(hc.out, "\r\nContent-Length: 12\r\n\r\nHello World!"...)
	}
}

// parseRequest parses the request at the start of b as gnet's example's
// parser does: request line, then each header line, Content-Length read. It
// returns the request's length and true, 0 and false when it is not all
// there, or -1 for a malformed one.
func parseRequest(b []byte) (int, bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	head := b[:end+2]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if bytes.Count(line, []byte(" ")) != 2 {
		return -1, false
	}
	clen := 0
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return -1, false
		}
		if bytes.EqualFold(name, []byte("Content-Length")) {
			n := 0
			for _, d := range bytes.TrimSpace(value) {
				n = n*10 + int(d-'0')
			}
			clen = n
		}
	}
	total := end + 4 + clen
	if len(b) < total {
		return 0, false
	}
	return total, true
}

// gnetSimple is gnet's simple-protocol server.
type gnetSimple struct{ gnetEcho }

var simpleMagic = func() []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[:], simpleproto.Magic)
	binary.BigEndian.PutUint16(b[2:], simpleproto.Version)
	return b[:]
}()

// OnOpen greets. gnet's loop goroutine.
func (s *gnetSimple) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	return []byte(simpleproto.Greeting), gnet.None
}

// OnTraffic decodes every whole packet and echoes them with one Writev.
// gnet's loop goroutine.
func (s *gnetSimple) OnTraffic(c gnet.Conn) gnet.Action {
	var packets [][]byte
	for {
		hdr, _ := c.Peek(simpleproto.HeaderLen)
		if len(hdr) < simpleproto.HeaderLen {
			break
		}
		if !bytes.Equal(hdr[:4], simpleMagic) {
			return gnet.Close
		}
		n := simpleproto.HeaderLen + int(binary.BigEndian.Uint32(hdr[4:]))
		if c.InboundBuffered() < n {
			break
		}
		pkt, _ := c.Peek(n)
		// Encode: a new packet per echo, as the example's codec does.
		out := make([]byte, n)
		copy(out, pkt)
		_, _ = c.Discard(n)
		packets = append(packets, out)
	}
	switch len(packets) {
	case 0:
	case 1:
		_, _ = c.Write(packets[0])
	default:
		_, _ = c.Writev(packets)
	}
	return gnet.None
}

// gnetPush is gnet's push example.
type gnetPush struct {
	gnetEcho
	conns sync.Map
	line  []byte
}

// OnOpen registers the connection. gnet's loop goroutine.
func (p *gnetPush) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	p.conns.Store(c, struct{}{})
	return nil, gnet.None
}

// OnClose forgets it. gnet's loop goroutine.
func (p *gnetPush) OnClose(c gnet.Conn, _ error) gnet.Action {
	p.conns.Delete(c)
	return gnet.None
}

// OnTick queues the current time to every connection. gnet's ticker
// goroutine.
func (p *gnetPush) OnTick() (time.Duration, gnet.Action) {
	line := appendStamp(nil, time.Now())
	p.conns.Range(func(k, _ any) bool {
		_ = k.(gnet.Conn).AsyncWrite(line, nil)
		return true
	})
	return PushInterval, gnet.None
}

// OnTraffic echoes. gnet's loop goroutine.
func (p *gnetPush) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// appendStamp appends t in nanoseconds since the epoch and "\n", the push
// line of examples/push.
func appendStamp(b []byte, t time.Time) []byte {
	n := t.UnixNano()
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	b = append(b, d[i:]...)
	return append(b, '\n')
}

// reactorFactory is what a whirl bench server listens with.
type reactorFactory = factory.Factory
