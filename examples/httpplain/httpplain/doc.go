// Package httpplain is gnet's HTTP example ported to whirl: every request
// gets "Hello World!" back, as TechEmpower's plaintext test asks, over
// HTTP/1.1 keep-alive and pipelining.
//
// It is not a general HTTP server. It answers every method and every path
// the same way, and reads a request body only to skip it (Content-Length;
// a chunked body is refused). What it does is get right the parts of
// HTTP/1.1 that a keep-alive, pipelining client relies on, where gnet's
// example does not:
//
//   - A request may arrive split across reads at any byte: the bytes of an
//     unfinished request head are kept (up to MaxHeaderBytes) until the
//     head is complete, and a body is skipped across reads.
//   - A request head longer than MaxHeaderBytes is answered "431 Request
//     Header Fields Too Large" and the connection closed; a malformed one
//     (a bad request line, a header line without a colon, an HTTP/1.1
//     request without Host, a bad or conflicting Content-Length) "400 Bad
//     Request"; a Transfer-Encoding "501 Not Implemented"; a body over
//     MaxBodyBytes "413 Content Too Large". The connection closes with
//     Transport().CloseWithError and an error matching one of this package's
//     sentinels, so the reactor logs one warn line with the peer.
//   - "Connection: close" (and HTTP/1.0 without "Connection: keep-alive")
//     is honoured: the answer says "Connection: close" and the connection
//     closes once it is sent; requests pipelined after it are not answered.
//   - A client that pipelines without reading is held back: the transport
//     is the producer of its own output, so once the unread answers pass the
//     high watermark the server stops reading from it and TCP pushes back.
//
// Every answer carries Server, Content-Type, Date and Content-Length, as
// gnet's does. All the answers to the requests of one read go out in one
// Write; steady state allocates nothing per request.
//
// # Goroutines
//
// A [Server]'s callbacks run on its connection's loop, as every protocol's
// do; it keeps only its own state. [Factory] may be called from any
// goroutine.
package httpplain
