// Package haproxy serves connections that come through a proxy speaking the
// PROXY protocol, versions 1 and 2 (HAProxy's send-proxy and send-proxy-v2,
// and the load balancers that copied them): a port of Twisted's
// twisted.protocols.haproxy that keeps the promises Twisted's does not.
//
//	port, err := r.ListenTCP("127.0.0.1:8080", haproxy.Wrap(f))
//	// or, with the endpoint syntax:
//	port, err := r.Listen("haproxy:tcp:8080:interface=127.0.0.1", f)
//
// Each connection first reads the proxy's header. Only once it is whole and
// valid does the wrapped factory build the protocol (its BuildProtocol gets
// the client's address) and the protocol get ConnectionMade, with a
// transport whose RemoteAddr is the client's and whose LocalAddr is the
// address the client connected to. The bytes that followed the header come
// next, in order. A connection whose header is malformed, too large, cut
// short by the peer's FIN, or not whole within the header timeout (3 s by
// default) is closed with a typed reason ([ErrMalformedHeader],
// [ErrHeaderTooLarge], [ErrHeaderTruncated], [ErrHeaderTimeout]) that the
// reactor logs once at warn level; nothing is written to it and no protocol
// of the wrapped factory sees it.
//
// # One connection, step by step
//
//	real transport (the connection's loop)       haproxy.ProtocolWrapper               wrapped factory / protocol
//	──────────────────────────────────────       ───────────────────────               ──────────────────────────
//	accept → BuildProtocol(proxy's addr) ──────▶ new wrapper (factory not asked)
//	ConnectionMade ────────────────────────────▶ start header timer
//	DataReceived("PROXY TCP4 1.2.")  ──────────▶ keep the bytes: need more
//	DataReceived("3.4 ...\r\nHELLO") ──────────▶ header whole → go-proxyproto parses it
//	                                             stop timer, set addresses ───────────▶ BuildProtocol(client's addr)
//	                                                                         ───────────▶ ConnectionMade (RemoteAddr: client)
//	                                                                         ───────────▶ DataReceived("HELLO")
//	DataReceived(...) ─────────────────────────▶ passed through ─────────────────────────▶ DataReceived(...)
//	ConnectionLost(reason) ────────────────────▶ ───────────────────────────────────────▶ ConnectionLost(reason)
//
// A refused header ends at the wrapper: CloseWithError on the real
// transport, ConnectionLost on the wrapper, nothing on the factory's side.
//
// # Parsing
//
// The header's bytes are framed here (split-safe: one byte at a time or all
// at once give the same result, and a wrong signature or an oversize length
// is refused as soon as its byte arrives) and parsed by
// github.com/pires/go-proxyproto once whole: its Header, TLV and tlvparse
// types are what [ProtocolWrapper.Header], [ProtocolWrapper.TLVs] and
// [ProtocolWrapper.SSL] return. A v2 header's length is bounded by
// proxyproto.MaxV2HeaderSize (4096 bytes of addresses and TLVs by default; a
// program that expects larger ones sets it at start-up). A v2 CRC32C TLV,
// which go-proxyproto leaves to its caller, is verified here.
//
// # Composing with policies
//
// Wrap the factory inside the policies that should see clients
// (policies.LimitConnectionsByPeer counts clients, not the proxy, when it is
// wrapped by haproxy.Wrap) and outside those that should see the proxy's
// connections. A protocol behind both finds the header with [FromTransport],
// which looks through policies.ProtocolWrapper.
//
// # Trust
//
// The header is believed: anyone who can reach a haproxy: port can claim
// any address. Listen on an address only the proxy reaches (loopback, a
// private network, a firewall rule).
//
// # Goroutines
//
// As everywhere in whirl, the Protocol methods of the wrapper and of the
// wrapped protocol run on the connection's loop; the Transport methods and
// the header accessors are safe from any goroutine once the wrapped protocol
// is connected.
package haproxy
