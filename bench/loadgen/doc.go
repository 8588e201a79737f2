// Package loadgen is the load generator of whirl's benchmarks. It drives an
// echo server over TCP, or over a UNIX socket (an address written
// [UnixPrefix]PATH), and checks every byte that comes back.
//
// [Run] keeps a number of messages in flight on each of many connections
// (1 for ping-pong, more for pipelining), warms up, then measures messages
// per second, bytes per second and latency percentiles from a log-bucketed
// [Histogram]. [RunWhirl] is the same load on whirl's own client
// (reactor.ConnectTCP, a protocol per connection on a few event loops), so
// that the client side can be measured too. [Setup] measures how fast
// connections can be opened, used for one round trip and closed. [Hold]
// opens many connections and leaves them idle, for measuring a server's
// memory per connection.
//
// Every message is a line (see [MinSize] and [Delimiter]) stamped with its
// sequence number, so line-based servers echo it unchanged and a reordered,
// lost, duplicated or corrupted byte is caught.
//
// Each result carries what the process used during the window
// ([Result.ClientCPU], [Result.ClientMallocs]): the bench runs each client
// in a process of its own, so that is the client's own cost.
//
// # Goroutines
//
// Run, Setup and Hold run one goroutine per connection; RunWhirl runs its
// connections on its reactor's loops (GOMAXPROCS of them by default), each
// loop with one histogram for all its connections, merged at the end. The
// generator is itself a cost on a small machine, which is why the harness
// can pin it to other CPUs than the server's. The exported functions may be
// called from any goroutine; a [Histogram] belongs to one goroutine at a
// time.
package loadgen
