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
//
// # Clients
//
// A [ClientFactory] builds the protocol of an outbound connection and is told,
// through a [Connector], how each attempt ends: Twisted's ClientFactory.
// [Reconnecting] is Twisted's ReconnectingClientFactory: embedded in a client
// factory, it connects again after a failure or a loss, with an exponential
// backoff and jitter. A client factory's callbacks run on the connector's
// loop.
package factory
