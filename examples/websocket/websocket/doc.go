// Package websocket is gnet's WebSocket example ported to whirl: an echo
// server speaking RFC 6455. The opening handshake and the frame headers are
// github.com/gobwas/ws's (the library gnet's example uses): ws.Upgrader
// answers the handshake, ws.ReadHeaderBuffer and ws.WriteHeaderBuffer read
// and write frame headers, ws.Cipher unmasks. What the loop needs around
// them is here: bytes are kept until a handshake or a frame is whole
// (bounded), and the rules of the protocol are checked on every frame.
//
// The server echoes every message (text or binary, fragmented or not) as
// one frame of the same type, answers a ping with a pong, and answers a
// close with a close. A violation closes the connection with a close frame
// carrying the RFC's status (1002 protocol error, 1007 invalid UTF-8 in a
// text message, 1009 message too big) and Transport().CloseWithError with an
// error matching [ErrProtocol], [ErrInvalidUTF8], [ErrTooBig] or
// [ErrHandshake]: the reactor logs one warn line with the peer.
//
// # Goroutines
//
// A [Server]'s callbacks run on its connection's loop; [Factory] may be
// called from any goroutine.
package websocket
