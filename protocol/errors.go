package protocol

import "errors"

// Errors of package protocol: typed reasons recorded by the receivers (see
// their Err methods), returned by Send methods, or used as panic values for
// programming errors that the reactor recovers (the connection is aborted with
// a reason that matches them).
var (
	// ErrLineTooLong is recorded by the default LineLengthExceeded of
	// [LineReceiver] and [LineOnlyReceiver], which then close the connection;
	// their Err method returns it (from ConnectionLost, for instance).
	ErrLineTooLong = errors.New("protocol: line too long")
	// ErrNoLineReceived is the panic value (wrapped, naming the type) of a
	// line receiver whose outer protocol has no LineReceived(line []byte)
	// method, or that was fed data before MakeConnection. It is a
	// programming error: the reactor recovers the panic, logs it and aborts
	// the connection; the reason given to ConnectionLost matches
	// ErrNoLineReceived.
	ErrNoLineReceived = errors.New("protocol: line receiver without a LineReceived method")
	// ErrNoRawDataReceived is the panic value (wrapped, naming the type) of
	// [LineReceiver.SetRawMode] when the outer protocol has no
	// RawDataReceived(data []byte) method; it is handled as
	// ErrNoLineReceived is.
	ErrNoRawDataReceived = errors.New("protocol: SetRawMode without a RawDataReceived method")

	// ErrStringTooLong is returned (wrapped, with the sizes) by SendString of
	// an IntN receiver when the string does not fit the length prefix:
	// 256 bytes or more for Int8, 65536 or more for Int16, 2^32 or more for
	// Int32. Nothing is written.
	ErrStringTooLong = errors.New("protocol: string too long for its length prefix")
	// ErrLengthLimitExceeded is recorded (wrapped, with the sizes; see Err)
	// when a peer announces a string longer than MaxLength. An IntN receiver
	// records it as is; a NetstringReceiver records a *NetstringParseError
	// that wraps it.
	ErrLengthLimitExceeded = errors.New("protocol: string length over MaxLength")
	// ErrNetstringParse is matched, with errors.Is, by every
	// *NetstringParseError: the peer sent something that is not a netstring.
	ErrNetstringParse = errors.New("protocol: invalid netstring")
	// ErrNoStringReceived is the panic value (wrapped, naming the type) of a
	// string receiver whose outer protocol has no StringReceived method, or
	// that was fed data before MakeConnection. The reactor recovers the panic,
	// logs it and aborts the connection; the reason given to ConnectionLost
	// matches ErrNoStringReceived.
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
