// Package tcpecho is Tornado's demos/tcpecho on whirl's streams: a
// stream.TCPServer whose HandleStream reads a line with ReadUntil, writes it
// back, waits for the write and reads the next, until the stream closes;
// and the client that sends one message and prints the reply.
//
// # Goroutines
//
// The server's HandleStream and every stream callback run on the
// connection's loop; the set of clients is shared by the loops and guarded
// by a mutex. NewServer, Clients, Run and Send may be called from any
// goroutine.
package tcpecho
