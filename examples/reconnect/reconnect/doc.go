// Package reconnect is a line client that keeps its session alive across
// server restarts: a [factory.Reconnecting] (Twisted's
// ReconnectingClientFactory) whose protocol is a [protocol.LineReceiver].
// Each connection may send a heartbeat line at a fixed rate; lines can be
// sent from any goroutine while a connection is up; lines received are handed
// to a callback. When the connection is refused or lost, the factory tries
// again after Twisted's exponential backoff, and the backoff starts again
// from InitialDelay each time a connection is made.
//
// # Goroutines
//
// The factory's client callbacks, the [Session]'s callbacks, the heartbeat and
// the Received callback run on the connector's loop (one loop: the connection
// lives where its connector does). [Factory.Send], [Factory.Connected],
// [Factory.Sessions] and [Factory.Backoff] may be called from any goroutine;
// the methods of the embedded factory.Reconnecting (Delay, Retries,
// StopTrying, ...) only on the connector's loop.
package reconnect
