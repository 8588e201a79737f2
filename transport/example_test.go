package transport_test

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/whirl-go/whirl/transport"
)

// describe is what a ConnectionLost might log: the class of the reason, then
// the more precise cause when there is one.
func describe(reason error) string {
	var class string
	switch {
	case errors.Is(reason, transport.ErrConnectionDone):
		class = "closed cleanly"
	case errors.Is(reason, transport.ErrConnectionLost):
		class = "lost"
	case errors.Is(reason, transport.ErrConnectionAborted):
		class = "aborted"
	}
	var p *transport.PanicError
	switch {
	case errors.Is(reason, transport.ErrIdleTimeout):
		class += ", idle"
	case errors.Is(reason, syscall.ECONNRESET):
		class += ", reset by the peer"
	case errors.Is(reason, transport.ErrWriteBufferOverflow):
		class += ", the peer does not read"
	case errors.As(reason, &p):
		class += fmt.Sprintf(", panic: %v", p.Value)
	}
	return class
}

// ConnectionLost always gets a reason that matches one of three sentinels,
// and may wrap a more precise cause: the reasons below are built as the
// reactor builds them.
func Example() {
	for _, reason := range []error{
		transport.ErrConnectionDone,
		fmt.Errorf("%w: %w", transport.ErrConnectionDone, transport.ErrIdleTimeout),
		transport.Lost(syscall.ECONNRESET),
		transport.Aborted(transport.ErrWriteBufferOverflow),
		transport.Aborted(&transport.PanicError{Value: "boom"}),
	} {
		fmt.Println(describe(reason))
	}
	// Output:
	// closed cleanly
	// closed cleanly, idle
	// lost, reset by the peer
	// aborted, the peer does not read
	// aborted, panic: boom
}
