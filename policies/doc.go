// Package policies wraps factories to limit, time out, throttle and log their
// connections: a port of Twisted's twisted.protocols.policies.
//
// Every policy is a [*WrappingFactory] around the factory it governs. Its
// BuildProtocol puts each protocol the wrapped factory builds behind a
// [*ProtocolWrapper], which is the protocol to the real transport and the
// transport to the wrapped protocol: writes, closes (half-closes included)
// and the rest pass through it, and the policy sees the connection's events
// through the [Hooks] it gave the connection.
//
//	f := factory.ForProtocol(func() protocol.Protocol { return &Chat{} })
//	wrapped := policies.TimeoutFactory(
//		policies.LimitConnectionsByPeer(f, 10),
//		5*time.Minute,
//	)
//	port, err := r.ListenTCP("127.0.0.1:8000", wrapped)
//
// # Writing a policy
//
// Go has no subclasses to override Twisted's buildProtocol, dataReceived and
// write with, so a policy is a [Policy] (per factory: admit, refuse or
// replace each new connection) that returns [Hooks] (per connection: told of
// ConnectionMade, each chunk received, each write and ConnectionLost). Embed
// [NopHooks] to write only the hooks you need, and pass the policy to
// [NewWrappingFactory]. A hook may pause the connection's reading
// ([ProtocolWrapper.ThrottleReads]) or hold back its producer
// ([ProtocolWrapper.ThrottleWrites]) without undoing a pause that the wrapped
// protocol asked for itself. Policies compose by wrapping one factory in
// another, as above; each layer adds one wrapper per connection.
//
// # Factory start and stop
//
// StartFactory and StopFactory pass through to the wrapped factory, counted
// by the wrapper as Twisted's doStart and doStop count them, so the wrapped
// factory is started once and stopped once however many ports or outer
// wrappers share the wrapper.
//
// # Goroutines
//
// BuildProtocol runs on the new connection's loop, and several loops may run
// it at once: every count kept across connections (connection limits, byte
// budgets) is guarded by atomics or a mutex. The hooks run on the
// connection's loop, except Wrote, which runs on whichever goroutine wrote.
// Timers use the connection's loop clock, so tests drive them with the fake
// clock of package transporttest.
//
// # Differences from Twisted
//
//   - LimitConnectionsByPeer keys by IP address alone and works for IPv4, IPv6
//     and IPv4-mapped IPv6 peers (Twisted's fails on IPv4 addresses), and
//     forgets a peer when its last connection goes.
//   - LimitTotalConnections does not count overflow connections against the
//     limit.
//   - ThrottlingFactory pauses a connection when it reads over the budget
//     instead of pausing every connection from a once-a-second check, and
//     carries bytes over the limit into the next windows.
//   - TrafficLogging logs to zerolog at debug level instead of to one file
//     per connection.
package policies
