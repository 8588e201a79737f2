// Package push is gnet's push example ported to whirl: a server that sends
// a timestamp line to every connection on a ticker, and echoes what
// clients send.
//
// Each line is the time of the tick in nanoseconds since the Unix epoch, in
// decimal, and "\n". All connections get the same line at each tick.
//
// # One ticker per loop
//
// gnet's example runs one ticker (the engine's OnTick, on a goroutine of its
// own) that walks a sync.Map of every connection and queues an AsyncWrite
// to each. The port runs one ticker per event loop that has connections:
// each connection joins the ticker of its own loop (transport.LoopOf names
// the loop, shared by every connection on it), which is a CallLater on that
// loop, so every push is a plain Write on the connection's own loop, with no
// task handed between loops. A loop's ticker stops when its last connection
// goes and starts again with the next. (A timer per connection would cost a
// timer and a task per push.)
//
// # Flow control
//
// A client that does not read must not make the server buffer without
// bound. Each connection implements protocol.WriteBufferNotifier: when its
// unsent output passes the high watermark (WriteBufferFull), its pushes are
// skipped (counted: [Factory.Skipped]) until it drains below the low one
// (WriteBufferDrained); a timestamp that could not be sent is stale anyway,
// and the next tick sends a fresh one. The echo registers the transport as
// its own producer, so a client that sends without reading is pushed back by
// TCP, as in examples/echo.
//
// # Goroutines
//
// The protocol's callbacks and the tickers run on the connections' loops.
// [Factory]'s methods may be called from any goroutine.
package push
