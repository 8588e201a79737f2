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
// one and define LineReceived(line []byte). Lines are split at Delimiter
// ("\r\n" unless set) and handed over without it, straight from the received
// data when they arrive whole; a line is valid only until LineReceived
// returns. A line longer than MaxLength (16384 unless set) calls
// LineLengthExceeded, which by default records [ErrLineTooLong] and closes
// the connection, so a peer cannot make the receiver buffer more than
// MaxLength plus a delimiter. LineReceiver also has Twisted's raw mode
// (SetRawMode, SetLineMode) for protocols that mix lines and bytes, such as
// HTTP bodies.
//
// # Length-prefixed protocols
//
// [Int8StringReceiver], [Int16StringReceiver] and [Int32StringReceiver] frame
// each string with its length as a 1-, 2- or 4-byte big-endian prefix;
// [NetstringReceiver] frames it as a netstring ("5:hello,"). All four are
// wire-compatible with Twisted's classes of the same names: embed one, define
// StringReceived(s []byte) ([StringHandler]), and send with SendString. A
// string is valid only until StringReceived returns. A peer announcing more
// than MaxLength bytes (99999 unless set) is refused as soon as the prefix or
// the length digits arrive, before any payload is buffered: the receiver
// records an error (see Err) and calls LengthLimitExceeded (IntN) or
// NetstringParseFailed (netstrings, also for malformed input), whose defaults
// close the connection. Memory per connection stays within MaxLength plus the
// prefix, and steady-state receiving and sending do not allocate.
package protocol
