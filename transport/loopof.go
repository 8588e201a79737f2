package transport

// SharedLooper is implemented by transports that can name the loop they run
// on as a value shared by every transport on it (the reactor's do); see
// [LoopOf].
type SharedLooper interface {
	// SharedLoop returns the loop the transport's callbacks run on, the
	// same value for every transport on that loop. Any goroutine.
	SharedLoop() Loop
}

// LoopOf returns the loop t's callbacks run on, as one value shared by
// every transport on that loop, so that code serving many connections can
// keep one timer (or one batch of work) per loop rather than per
// connection, and write to each connection from its own loop. It asks a
// [SharedLooper], looks through wrappers that have an Unwrap() Transport
// method (policies', haproxy's, tlsproto's), and otherwise returns t.Loop()
// (a transport of its own loop, as transporttest's). Work scheduled through
// the shared loop is not tied to t: the reactor logs a panic in it instead
// of aborting t. Any goroutine.
func LoopOf(t Transport) Loop {
	for t != nil {
		if s, ok := t.(SharedLooper); ok {
			return s.SharedLoop()
		}
		u, ok := t.(interface{ Unwrap() Transport })
		if !ok {
			break
		}
		inner := u.Unwrap()
		if inner == nil || inner == t {
			break
		}
		t = inner
	}
	if t == nil {
		return nil
	}
	return t.Loop()
}
