// Package udpecho is Twisted's UDP echo server (a DatagramProtocol whose
// datagramReceived writes the datagram back to its sender) on whirl, and the
// command line that runs it (examples/udpecho, whirl udpecho).
//
// # Goroutines
//
// Echo's callbacks run on its port's loop. Listen, Serve and Run may be
// called from any goroutine; Serve and Run block until their context ends.
package udpecho
