// Package seedserver is the document whirl was created from, "a simple
// TCPServer" on Tornado's IOLoop, ported line by line onto whirl's streams:
// [TCPServer] is its TcpServer class, [BuildClass] its build_class,
// [Connection] the per-connection class it leaves out, and [UpperServer]
// the example server made from it (it upper-cases and echoes each chunk).
// README.md shows the Python and the Go side by side.
//
// # Goroutines
//
// OnConnect, HandleStream, OnClose and the connection's methods run on the
// connection's loop. StartFactory runs on loop 0 once the reactor runs (the
// seed's add_callback); StopFactory on the goroutine that calls Stop (or
// the reactor's stop hook). Init, Start and Stop may be called from any
// goroutine.
package seedserver
