#!/usr/bin/env python3
"""Echo server on Tornado, for whirl's benchmarks.

It is the echo server a Tornado user writes (a TCPServer whose handle_stream
reads what is there and awaits writing it back, so a peer that does not read
is pushed back), with TCP_NODELAY set as the Go servers have it and a listen
backlog large enough for the benchmark's bursts of connections.

It prints "LISTENING host:port" once it listens, and stops when its standard
input closes (or on SIGINT/SIGTERM).
"""

import argparse
import asyncio
import sys
import threading

from tornado import netutil
from tornado.iostream import StreamClosedError
from tornado.tcpserver import TCPServer


class EchoServer(TCPServer):
    async def handle_stream(self, stream, address):
        stream.set_nodelay(True)
        try:
            while True:
                data = await stream.read_bytes(65536, partial=True)
                await stream.write(data)
        except StreamClosedError:
            pass


def watch_stdin(loop, stop):
    # Runs on its own thread: blocks until the harness closes stdin.
    for _ in sys.stdin:
        pass
    loop.call_soon_threadsafe(stop.set)


async def serve(args):
    sockets = netutil.bind_sockets(args.port, address=args.host, backlog=args.backlog)
    server = EchoServer()
    server.add_sockets(sockets)
    host, port = sockets[0].getsockname()[:2]
    print("LISTENING %s:%d" % (host, port), flush=True)
    stop = asyncio.Event()
    threading.Thread(target=watch_stdin, args=(asyncio.get_running_loop(), stop), daemon=True).start()
    await stop.wait()
    server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--backlog", type=int, default=1024)
    try:
        asyncio.run(serve(ap.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
