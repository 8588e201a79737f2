package tlsproto

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the TLS layer. A connection it closes gets a reason that also
// matches transport.ErrConnectionAborted.
var (
	// ErrHandshakeFailed is matched by the reason of a connection whose
	// TLS handshake failed: the peer's (or crypto/tls's) error, a peer
	// that closed or sent something else than TLS, or a timeout. The
	// reason wraps crypto/tls's error when there is one.
	ErrHandshakeFailed = errors.New("tlsproto: TLS handshake failed")
	// ErrHandshakeTimeout is matched by the reason of a connection whose
	// handshake took longer than its timeout; it matches
	// ErrHandshakeFailed too.
	ErrHandshakeTimeout = fmt.Errorf("%w: timed out", ErrHandshakeFailed)
	// ErrProtocol is matched by the reason of a connection closed because
	// of a TLS error after the handshake: a record that does not decrypt,
	// an unexpected message, a refused renegotiation, input cut in the
	// middle of a record. The reason wraps crypto/tls's error.
	ErrProtocol = errors.New("tlsproto: TLS protocol error")
)

// DefaultHandshakeTimeout is how long a handshake may take when
// [Options.HandshakeTimeout] is 0.
const DefaultHandshakeTimeout = 10 * time.Second

// DefaultMaxHandshakes is the size of a [Limiter] made with a size of 0.
const DefaultMaxHandshakes = 4096

// maxPendingWrite bounds the plaintext written before the handshake
// completed (after StartTLS), which the transport's cap does not see yet.
const maxPendingWrite = 1 << 20

// maxHandshakeInput is how much input may wait during a handshake before
// the transport is paused.
const maxHandshakeInput = 64 << 10
