// Package tlsproto is TLS as a layer between a transport and a protocol,
// driven by the standard crypto/tls from the event loop: Twisted's
// TLSMemoryBIOProtocol, without a goroutine per connection.
//
// A [Conn] is one connection's TLS. To the transport below it is the
// protocol (ciphertext arrives through its DataReceived); to the protocol
// above it is the transport (plaintext leaves through its Write). The
// reactor uses it for reactor.ListenTLS, reactor.ConnectTLS, the ssl: and
// tls: endpoint strings and transport.Transport.StartTLS; [NewServer],
// [NewClient] and [NewFactory] put it over any other transport, such as the
// in-memory one of package transporttest, or inside another wrapper (a
// PROXY-protocol wrapper outside, TLS inside).
//
// # What the protocol sees
//
// The protocol sees plaintext only. Its ConnectionMade runs once the
// handshake completed (after StartTLS, it ran before: then the optional
// [HandshakeListener] is the notice). [ConnectionState] gives the
// negotiated version, cipher suite, ALPN protocol and the peer's
// certificates from the protocol's transport. LoseConnection sends
// close_notify, then the transport flushes and sends its FIN; the peer's
// close_notify is an end of input (ReadConnectionLost for a
// protocol.HalfCloseable protocol, LoseConnection for any other).
//
// # The handshake
//
// crypto/tls cannot resume a handshake after a read that would block, so
// each handshake runs on a goroutine of its own, for its duration only:
// its reads wait for the loop to feed the bytes that arrive. A server
// starts it only once the client's first record is complete (a silent
// client costs no goroutine); a [Limiter] bounds how many run at once (the
// others wait in a queue, which costs no goroutine); and a timer on the
// loop, from the start of TLS, fails a handshake that takes longer than
// the timeout (10 s by default) so that half-open handshakes cannot pile
// up. A handshake that fails or times out closes the connection with
// CloseWithError: the reason matches transport.ErrConnectionAborted and
// [ErrHandshakeFailed] (and [ErrHandshakeTimeout]). A server's protocol
// never hears of a failed handshake: it is neither built nor connected.
//
// After the handshake, tls.Conn's Read runs on the loop over an in-memory
// net.Conn that answers "would block" (a net.Error whose Temporary is true,
// which crypto/tls does not keep as a failure) when it has no more bytes;
// its Write may run on any goroutine and hands each record to the
// transport's Write at once, in crypto/tls's order. Flow control is the
// transport's: its watermarks, hard cap and stall timeout count ciphertext,
// and pausing the protocol's transport pauses the socket.
//
// This relies on crypto/tls behaviour that its documentation does not
// promise (the Temporary path, partial records kept across reads); the
// tests of this package pin it.
package tlsproto
