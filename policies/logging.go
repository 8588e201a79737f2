package policies

import (
	"net"
	"strconv"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// DefaultLogBytes is how many bytes of each chunk [TrafficLogging] shows when
// given a maxBytes of 0 or less.
const DefaultLogBytes = 256

// TrafficLogging wraps f so that each connection's traffic is logged to
// logger at debug level: Twisted's TrafficLoggingFactory, with zerolog in
// place of a file per connection. Every line carries "conn", a number the
// factory gives each connection in order from 1. The lines are:
//
//   - "connection made", with "peer" and "local";
//   - "data received" and "data written" for each chunk read and each buffer
//     written, with "len" (the chunk's length), "data" (its first maxBytes
//     bytes, Go-quoted so that any byte shows) and "truncated";
//   - "connection lost", with "peer", "reason", and the totals "read" and
//     "written";
//   - "connection refused", with "peer", when f refuses a connection.
//
// A maxBytes of 0 or less means [DefaultLogBytes]. Nothing is formatted when
// the logger's level leaves debug out. Lines for writes are logged on the
// goroutine that writes, so the logger's writer must be safe for concurrent
// use (wrap others in zerolog.SyncWriter). Any goroutine may call
// TrafficLogging.
func TrafficLogging(f factory.Factory, logger zerolog.Logger, maxBytes int) *WrappingFactory {
	if maxBytes <= 0 {
		maxBytes = DefaultLogBytes
	}
	return NewWrappingFactory(f, &trafficLog{log: logger, max: maxBytes})
}

type trafficLog struct {
	log zerolog.Logger
	max int
	ids atomic.Uint64
}

// Build numbers the connection. Loop goroutine.
func (l *trafficLog) Build(addr net.Addr, next func() protocol.Protocol) (protocol.Protocol, Hooks) {
	id := l.ids.Add(1)
	p := next()
	if p == nil {
		l.log.Debug().Uint64("conn", id).Stringer("peer", addr).Msg("connection refused")
		return nil, nil
	}
	return p, &logConn{l: l, id: id}
}

// logConn logs one connection.
type logConn struct {
	l             *trafficLog
	id            uint64
	read, written atomic.Int64
}

// ConnectionMade logs the connection. Loop goroutine.
func (c *logConn) ConnectionMade(w *ProtocolWrapper) {
	c.l.log.Debug().Uint64("conn", c.id).Stringer("peer", w.RemoteAddr()).
		Stringer("local", w.LocalAddr()).Msg("connection made")
}

// DataReceived logs a chunk read. Loop goroutine.
func (c *logConn) DataReceived(_ *ProtocolWrapper, data []byte) {
	c.read.Add(int64(len(data)))
	c.data("data received", data)
}

// Wrote logs a buffer written. Any goroutine.
func (c *logConn) Wrote(_ *ProtocolWrapper, data []byte) {
	c.written.Add(int64(len(data)))
	c.data("data written", data)
}

func (c *logConn) data(msg string, data []byte) {
	e := c.l.log.Debug()
	if !e.Enabled() {
		e.Discard()
		return
	}
	shown := data[:min(len(data), c.l.max)]
	e.Uint64("conn", c.id).Int("len", len(data)).
		Str("data", strconv.Quote(string(shown))).
		Bool("truncated", len(shown) < len(data)).Msg(msg)
}

// ConnectionLost logs the end of the connection. Loop goroutine.
func (c *logConn) ConnectionLost(w *ProtocolWrapper, reason error) {
	c.l.log.Debug().Uint64("conn", c.id).Stringer("peer", w.RemoteAddr()).
		AnErr("reason", reason).Int64("read", c.read.Load()).
		Int64("written", c.written.Load()).Msg("connection lost")
}
