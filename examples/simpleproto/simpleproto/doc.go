// Package simpleproto is gnet's "simple protocol" example ported to whirl:
// length-prefixed packets on TCP, a server that greets each client and
// echoes every packet, and a client (on whirl's ConnectTCP) that sends
// batches of random packets and checks every echo.
//
// A packet on the wire:
//
//	0       2         4                 8
//	+-------+---------+-----------------+-------------------+
//	| magic | version |   body length   |  body (length B)  |
//	+-------+---------+-----------------+-------------------+
//
// all big-endian: [Magic] (1314, gnet's), [Version] (1), the body's length
// (uint32), then the body. On connect the server sends [Greeting]
// ("sweetness\r\n") before anything else, as gnet's does.
//
// [Decoder] splits a byte stream into packets whatever the reads' sizes,
// keeping at most one unfinished packet (bounded by its MaxLength). A bad
// magic or version, or a body over MaxLength, is an error matching
// [ErrMagic], [ErrVersion] or [ErrTooLarge]; the server and the client close
// the connection with it (Transport().CloseWithError: one warn log line with
// the peer).
//
// # Goroutines
//
// The protocols' callbacks run on their connection's loop, as every
// protocol's do. A Decoder belongs to one goroutine. [AppendPacket] and the
// factories' methods are safe from any goroutine.
package simpleproto
