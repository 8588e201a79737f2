// Package reactortest runs a real reactor for the length of a test, as
// net/http/httptest runs a real server: for integration tests that talk to a
// protocol over loopback TCP. Protocol logic is better tested without sockets,
// with transport/transporttest.
package reactortest
