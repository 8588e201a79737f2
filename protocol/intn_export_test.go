package protocol

// StringBufferCap returns the capacity of the buffer that a string receiver
// (one of the Int*StringReceivers or NetstringReceiver) holds for a partial
// string, so tests can check that it stays within MaxLength.
func StringBufferCap(r any) int {
	switch r := r.(type) {
	case *Int8StringReceiver:
		return cap(r.core.buf)
	case *Int16StringReceiver:
		return cap(r.core.buf)
	case *Int32StringReceiver:
		return cap(r.core.buf)
	case *NetstringReceiver:
		return cap(r.core.buf)
	}
	panic("StringBufferCap: not a string receiver")
}
