package reactor

import "github.com/whirl-go/whirl/transport"

// HasConnExt reports whether the connection behind t allocated its connExt
// (the state only some connections need). Loop goroutine of t.
func HasConnExt(t transport.Transport) bool { return t.(*conn).x.Load() != nil }
