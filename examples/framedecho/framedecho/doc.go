// Package framedecho is an echo server for framed messages: every complete
// frame a client sends comes back to it in the same framing. It is the test
// server one writes against Twisted's Int8StringReceiver,
// Int16StringReceiver, Int32StringReceiver and NetstringReceiver, ported to
// whirl's receivers of the same names, which are wire-compatible with them.
//
// The framings ([Framing]):
//
//	int32      4-byte big-endian length, then the payload ("\x00\x00\x00\x02hi")
//	int16      2-byte big-endian length, then the payload ("\x00\x02hi")
//	int8       1-byte length, then the payload ("\x02hi")
//	netstring  decimal length, colon, payload, comma ("2:hi,")
//
// Empty frames are frames too, and are echoed. A frame announcing more than
// the factory's MaxLength bytes (99999 by default), or input that is not a
// netstring, makes the server close the connection: the frames received
// before it are echoed, the rest of the input is discarded, and the peer
// sees the end of the stream after the last echo.
//
// # Flow control
//
// Each protocol registers its transport as the producer of its own output,
// as examples/echo does: a client that sends without reading is held back by
// TCP once the echoes it does not read pass the high watermark, instead of
// growing the server's memory.
//
// # Goroutines
//
// The protocols' callbacks run on their connection's loop, as every
// protocol's do; they keep no state but their receiver's. [Factory] may be
// called from any goroutine.
package framedecho
