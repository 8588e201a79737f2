// Package protocol defines [Protocol], the per-connection object users write,
// and [Base], the struct they embed to get default callbacks, the transport,
// and a way for bases built on top of it to call the user's own methods.
//
//	type Echo struct{ protocol.Base }
//
//	func (e *Echo) DataReceived(data []byte) { e.Transport().Write(data) }
//
// # Goroutines
//
// All of a protocol's callbacks run on its connection's loop, one at a time:
// its own fields need no locks. State shared between connections (a chat
// room) is reached from several loops and needs a mutex, unless the reactor
// runs a single loop.
//
// # Panics
//
// A panic in a callback is recovered by the reactor, logged with its stack,
// and the connection is aborted; other connections are not disturbed.
//
// # Line protocols
//
// [LineReceiver] and [LineOnlyReceiver] are Twisted's line receivers: embed
// one and define LineReceived(line []byte) ([LineHandler]), checked at
// compile time with an assertion:
//
//	type Chat struct {
//		protocol.LineReceiver
//		room *Room
//	}
//
//	func (c *Chat) LineReceived(line []byte) { c.room.Broadcast(c, line) }
//
//	var _ protocol.LineHandler = (*Chat)(nil)
//
// Lines are split at Delimiter ("\r\n" unless set) and handed over without
// it, straight from the received data when they arrive whole; a line is
// valid only until LineReceived returns. A line longer than MaxLength (16384
// unless set) calls LineLengthExceeded, which by default closes the
// connection with an error matching [ErrLineTooLong], so a peer cannot make
// the receiver buffer more than MaxLength plus a delimiter. LineReceiver also
// has Twisted's raw mode (SetRawMode, SetLineMode) for protocols that mix
// lines and bytes, such as HTTP bodies.
//
// # Length-prefixed protocols
//
// [Int8StringReceiver], [Int16StringReceiver] and [Int32StringReceiver] frame
// each string with its length as a 1-, 2- or 4-byte big-endian prefix;
// [NetstringReceiver] frames it as a netstring ("5:hello,"). All four are
// wire-compatible with Twisted's classes of the same names: embed one, define
// StringReceived(s []byte) ([StringHandler], with the same assertion), and
// send with SendString. A string is valid only until StringReceived returns.
// A peer announcing more than MaxLength bytes (99999 unless set) is refused
// as soon as the prefix or the length digits arrive, before any payload is
// buffered: the receiver records an error (see Err) and calls
// LengthLimitExceeded (IntN) or NetstringParseFailed (netstrings, also for
// malformed input), whose defaults close the connection. A string's buffer
// grows with the bytes that arrive, never from the announced length, so a
// header announcing 2 GiB costs nothing until the bytes come; memory per
// connection stays within what the peer sent of one string (at most
// MaxLength plus the prefix), and steady-state receiving and sending do not
// allocate.
//
// # Receivers and hostile peers
//
// Every receiver error is the peer's fault and closes the connection the same
// way: the default hook calls Transport().CloseWithError(err), where err
// matches the sentinel ([ErrLineTooLong], [ErrLengthLimitExceeded],
// [ErrNetstringParse]) and gives the sizes; what was written is flushed, the
// reactor logs err once with the peer's address, and ConnectionLost's reason
// matches both transport.ErrConnectionAborted and err. Err returns it too.
//
// A protocol that embeds a receiver but lacks its callback is refused by
// [MakeConnection] before any data is read, with an error naming its type and
// the method ([ErrNoLineReceived], [ErrNoStringReceived]), instead of failing
// on its first data.
//
// # Pausing a receiver
//
// Each receiver is a [transport.Producer], as Twisted's LineReceiver is:
// its PauseProducing, called from the callback or from any goroutine, stops
// the delivery before the next line or string (the rest of what was received
// stays buffered) and pauses the transport's reading; its ResumeProducing
// delivers what was held, on the connection's loop, then lets the transport
// read again. Calling Transport().PauseProducing() directly only stops the
// reading: the lines or strings of the chunk being delivered still come,
// because the Transport interface does not let a receiver see that pause or
// its end. Use the receiver's methods to pause delivery.
package protocol
