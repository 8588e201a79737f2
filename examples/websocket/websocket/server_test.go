package websocket_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/websocket/websocket"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// pythonClient is a client written with the websockets library: text,
// binary, a 200 KB message, a fragmented message, a ping, then a clean
// close. It prints OK when every echo matched.
const pythonClient = `
import asyncio, sys, websockets
async def main(uri):
    async with websockets.connect(uri, max_size=2**22) as ws:
        for msg in ["hello", "wörld", b"\x00\x01\x02", "x" * 200000, b""]:
            await ws.send(msg)
            got = await ws.recv()
            assert got == msg, (type(got), len(got), type(msg), len(msg))
        await ws.send(["frag", "mented"])
        assert await ws.recv() == "fragmented"
        pong = await ws.ping(b"ping")
        await asyncio.wait_for(pong, 5)
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000, ws.close_code
    print("OK")
asyncio.run(main(sys.argv[1]))
`

// TestPythonWebsocketsClient runs Python's websockets client against the
// server on a reactor at 127.0.0.1:0. It skips when /usr/bin/python3 cannot
// import websockets (Debian: apt-get install python3-websockets).
func TestPythonWebsocketsClient(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		t.Skip("python3 cannot import websockets (apt-get install python3-websockets)")
	}
	addr := reactortest.Serve(t, &websocket.Factory{}, reactor.WithLoops(2)).Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", pythonClient, "ws://"+addr+"/echo").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("python client: %v\n%s", err, out)
	}
}
