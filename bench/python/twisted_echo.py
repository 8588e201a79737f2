#!/usr/bin/env python3
"""Echo server on Twisted, for whirl's benchmarks.

It is the echo server a Twisted user writes (a Protocol whose dataReceived
writes the data back, served by listenTCP), with TCP_NODELAY set as the Go
servers have it and a listen backlog large enough for the benchmark's bursts
of connections.

It prints "LISTENING host:port" once it listens, and stops when its standard
input closes (or on SIGINT/SIGTERM).
"""

import argparse
import sys
import threading

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data):
        self.transport.write(data)


def watch_stdin():
    # Runs on its own thread: blocks until the harness closes stdin.
    for _ in sys.stdin:
        pass
    reactor.callFromThread(reactor.stop)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--backlog", type=int, default=1024)
    args = ap.parse_args()

    factory = protocol.Factory.forProtocol(Echo)
    port = reactor.listenTCP(args.port, factory, backlog=args.backlog, interface=args.host)
    host = port.getHost()
    print("LISTENING %s:%d" % (host.host, host.port), flush=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    reactor.run()


if __name__ == "__main__":
    main()
