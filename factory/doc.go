// Package factory defines [Factory], which builds one protocol per
// connection and is told when its ports start and stop listening: Twisted's
// Factory, with startFactory/stopFactory ref-counted by the reactor exactly as
// Twisted's doStart/doStop count them.
//
// A factory shared by several ports gets StartFactory once, after the first of
// them is bound and before any connection is accepted, and StopFactory once,
// after the last of them stopped listening (or at reactor stop). They are never
// called per connection.
//
// # Goroutines
//
// BuildProtocol runs on the loop of the connection it builds for. With more
// than one loop, it may run on several loops at once: a factory whose
// BuildProtocol touches shared state guards it. StartFactory runs on the
// goroutine that calls ListenTCP, StopFactory on the one that calls
// StopListening or Stop.
package factory
