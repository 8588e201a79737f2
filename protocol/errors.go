package protocol

import "errors"

// Errors of package protocol.
//
// Peer faults: a receiver that finds bad input ([ErrLineTooLong],
// [ErrLengthLimitExceeded], a [*NetstringParseError]) records an error that
// wraps the sentinel and gives the sizes involved ("protocol: line too long:
// 20000 bytes without a delimiter, MaxLength is 16384"), returns it from its
// Err method, and passes it to its error hook (LineLengthExceeded,
// LengthLimitExceeded, NetstringParseFailed). The hooks' defaults close the
// connection with Transport.CloseWithError(err): what was written is flushed,
// the reactor logs err once at warn level with the peer's address, and the
// reason given to ConnectionLost matches both transport.ErrConnectionAborted
// and the sentinel under errors.Is. A protocol that overrides the hook
// decides for itself (and may call the default by name to close).
//
// Programming errors: a protocol that embeds a receiver but lacks the
// callback it needs is refused by [MakeConnection] ([ErrNoLineReceived],
// [ErrNoStringReceived]: the connection is closed with CloseWithError before
// any data); the other programming errors are panic values that the reactor
// recovers (the connection is aborted with a reason that matches them).
//
// SendString returns [ErrStringTooLong]; FileSender returns
// [ErrFileSenderBusy].
var (
	// ErrLineTooLong is matched by the error a line receiver
	// ([LineReceiver], [LineOnlyReceiver]) records when a line is longer
	// than MaxLength (see their Err methods), and with which their default
	// LineLengthExceeded closes the connection (CloseWithError).
	ErrLineTooLong = errors.New("protocol: line too long")
	// ErrNoLineReceived is matched by the error with which [MakeConnection]
	// refuses a protocol that embeds a line receiver but has no
	// LineReceived(line []byte) method ([LineHandler]); the error names the
	// protocol's type. It is also the panic value of a line receiver fed
	// data without MakeConnection (before it, or after Wire only, on such a
	// protocol).
	ErrNoLineReceived = errors.New("protocol: line receiver without a LineReceived method")
	// ErrNoRawDataReceived is the panic value (wrapped, naming the type) of
	// [LineReceiver.SetRawMode] when the outer protocol has no
	// RawDataReceived(data []byte) method. It is a programming error: the
	// reactor recovers the panic, logs it and aborts the connection; the
	// reason given to ConnectionLost matches ErrNoRawDataReceived.
	ErrNoRawDataReceived = errors.New("protocol: SetRawMode without a RawDataReceived method")

	// ErrStringTooLong is returned (wrapped, with the sizes) by SendString of
	// an IntN receiver when the string does not fit the length prefix:
	// 256 bytes or more for Int8, 65536 or more for Int16, 2^32 or more for
	// Int32. Nothing is written.
	ErrStringTooLong = errors.New("protocol: string too long for its length prefix")
	// ErrLengthLimitExceeded is matched by the error a string receiver
	// records when the peer announces a string longer than MaxLength (see
	// Err), and with which the default hook closes the connection
	// (CloseWithError). An IntN receiver records it wrapped with the
	// announced length and MaxLength; a NetstringReceiver records a
	// *NetstringParseError that wraps it.
	ErrLengthLimitExceeded = errors.New("protocol: string length over MaxLength")
	// ErrNetstringParse is matched, with errors.Is, by every
	// *NetstringParseError: the peer sent something that is not a netstring.
	ErrNetstringParse = errors.New("protocol: invalid netstring")
	// ErrNoStringReceived is matched by the error with which
	// [MakeConnection] refuses a protocol that embeds a string receiver but
	// has no StringReceived(s []byte) method ([StringHandler]); the error
	// names the protocol's type. It is also the panic value of a string
	// receiver fed data without MakeConnection.
	ErrNoStringReceived = errors.New("protocol: string receiver without a StringReceived method")

	// ErrTimeoutNotBound is the panic value (wrapped, with details) of
	// [Timeout.SetTimeout] with a positive duration on a Timeout that was
	// not bound to its protocol (MakeConnection binds it; see [Timeout.Bind]), or whose protocol has no
	// transport yet (SetTimeout before MakeConnection). It is a programming
	// error: the reactor recovers the panic, logs it and aborts the
	// connection, and the reason given to ConnectionLost matches
	// ErrTimeoutNotBound.
	ErrTimeoutNotBound = errors.New("protocol: Timeout armed before Bind or before the connection was made")

	// ErrFileSenderBusy is returned by FileSender.BeginFileTransfer while a
	// transfer is in progress.
	ErrFileSenderBusy = errors.New("protocol: file transfer already in progress")
)
