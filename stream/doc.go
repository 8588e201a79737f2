// Package stream is Tornado's IOStream and TCPServer on whirl: a [Stream]
// reads with callbacks (ReadUntil, ReadUntilRegex, ReadBytes,
// ReadUntilClose, ReadInto) and writes with an optional callback that runs
// once the bytes reached the kernel, and a [TCPServer] hands each new
// connection's stream to the HandleStream of the type that embeds it.
//
// A Tornado server ports by turning each await into a callback:
//
//	# Tornado
//	class EchoServer(TCPServer):
//	    async def handle_stream(self, stream, address):
//	        while True:
//	            data = await stream.read_until(b"\n")
//	            await stream.write(data)
//
//	// whirl
//	type EchoServer struct{ stream.TCPServer }
//
//	func (e *EchoServer) HandleStream(s *stream.Stream, addr net.Addr) {
//		c := &echoConn{s: s}
//		c.gotLine, c.written = c.onLine, c.onWritten // bound once
//		c.read()
//	}
//
//	func (c *echoConn) read() { c.s.ReadUntil(newline, 0, c.gotLine) }
//
//	func (c *echoConn) onLine(data []byte, err error) {
//		if err != nil {
//			return // the stream is closed (errors.Is(err, stream.ErrStreamClosed))
//		}
//		if c.s.Write(data, c.written) != nil {
//			return
//		}
//	}
//
//	func (c *echoConn) onWritten(err error) {
//		if err == nil {
//			c.read()
//		}
//	}
//
// Binding the callbacks once per connection (a method value allocates each
// time it is made) keeps the steady state free of allocations but for the
// stream's receive blocks (see [Stream]).
//
// # Goroutines
//
// Everything runs on the connection's loop, as for any whirl protocol: the
// stream's callbacks, HandleStream, and the calls a callback makes. There is
// no goroutine per connection. TCPServer's Init, Listen, AddPort and Stop
// may be called from any goroutine. Blocking work goes to
// Transport().Loop().DeferToGoroutine, whose then runs on the loop again
// (Tornado's run_in_executor).
//
// # Panics
//
// A panic in a callback is recovered by the reactor and logged with its
// stack, and the connection is aborted, as for any protocol callback. A
// second read while one is pending is such a panic ([ErrAlreadyReading]).
//
// docs/porting-tornado.md maps Tornado's names to whirl's.
package stream
