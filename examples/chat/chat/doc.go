// Package chat is a line-based chat server in the style of the chat examples
// of Twisted's documentation, ported to whirl: a [protocol.LineReceiver] per
// connection, all of them in one [Room].
//
// # The protocol
//
// Lines end with CR LF, both ways. On connect the server sends
//
//	WELCOME <n> users online
//
// where n counts every client in the room, the new one included. Then each
// line from a client is one of:
//
//	NICK <name>   set the nickname; answered "OK <name>"
//	/quit         answered "BYE", then the server closes the connection
//	anything else sent to every other client as "<nick>: <line>"
//
// A client's nickname is the host:port of its peer address until it sends
// NICK. Errors are answered with a line starting "ERR":
//
//	ERR usage: NICK <name>   NICK with no name (or only spaces)
//	ERR invalid nickname     a name over MaxNickLength bytes, or holding a
//	                         space, a colon or a control character
//	ERR nickname in use      a name another client chose
//	ERR invalid line         a line holding a CR or an LF (other than the
//	                         CR LF that ends it), which could forge lines
//	                         on clients that end lines at LF
//	ERR line too long        a line over the factory's MaxLength; the
//	                         connection is then closed
//
// Commands are case-sensitive ("nick bob" is a chat message) and the name
// after NICK is trimmed of spaces and tabs. Nicknames chosen with NICK are
// unique in the room (compared byte for byte); a name cannot contain a colon,
// so no one can take a default host:port name, nor forge the "<nick>: "
// prefix of a message. Empty lines are ignored, not broadcast. The sender of
// a message does not get it back. The server sends nothing when clients join,
// leave or change nicknames.
//
// # Send queues and flow control
//
// Every client has a send queue (IRC's SendQ), bounded by Factory.SendQ
// (--sendq, 1 MiB by default). Its transport's high watermark is set to
// SendQ/8, at most 64 KiB. Lines for a client are written to its
// transport directly while the transport is below that watermark; once it
// is full, or more than a watermark was written since the client's loop
// last found it below, they are queued by the room, and moved into the
// transport on the client's loop as it drains. So the transport holds at
// most twice the watermark, and the queue the rest of SendQ. A line that
// would take the queue past that closes the client: the queue is dropped,
//
//	ERROR :Closing Link: <nick> (SendQ exceeded)
//
// is written after what the transport holds, the connection is closed with
// CloseWithError([ErrSendQExceeded]) (the reactor logs it at warn level with
// the peer's address), and aborted if the client has not read it all within
// [SendQGrace]. The kernel's socket buffers, which fill before the
// transport does, are not counted.
//
// Senders are paused rather than their lines buffered without bound. A
// client whose queue passes a quarter of its limit while it makes progress
// (its transport drained, or took more of the queue, within Factory.Hold,
// 250 ms by default) makes the room congested. While the room is
// congested, a client that has messages to deliver waits: its reading is
// paused (so TCP pushes back on it), the messages and the input not split
// yet are kept, and it is resumed, in turn with the other waiting clients,
// once no client holds the room up (a client's queue went back to an eighth
// of its limit, it stopped making progress for Factory.Hold, or it left).
// So the room goes at the pace of its slowest reader, and a client that does
// not read holds it up for Factory.Hold at most: then it no longer counts,
// its queue fills, and it is disconnected at its SendQ. A client that floods
// and never reads plays both parts, and is disconnected like the others.
// Messages are delivered in batches (one write per recipient for up to
// 16 KiB of a sender's lines); while the room is congested each waiting
// client delivers at most 1 KiB of input per turn.
//
// # Goroutines
//
// A [Chat]'s callbacks run on its connection's loop, as every protocol's do,
// and its own fields need no lock. The [Room] is shared by every connection,
// on every loop of the reactor: it is guarded by a mutex. A broadcast copies
// the list of the other members under the lock, releases it, and then
// delivers the messages to each (under that member's own lock: its send
// queue, and Transport.Write, which is safe from any goroutine); it never
// calls another connection's protocol. Moving a queue into its transport
// and resuming a waiting client run on that client's loop
// (Loop.CallSoon). [Factory] and [Room] methods may be called from any
// goroutine.
package chat
