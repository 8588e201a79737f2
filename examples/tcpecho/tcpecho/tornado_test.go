package tcpecho_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/examples/tcpecho/tcpecho"
)

const python = "/usr/bin/python3"

// needTornado skips the test unless /usr/bin/python3 imports tornado.
func needTornado(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import tornado").Run(); err != nil {
		t.Skipf("%s cannot import tornado: %v", python, err)
	}
}

// tornadoClient is a Tornado IOStream client: it connects, and for each
// argument writes it with a newline, awaits the write, reads a line and
// prints it; then it closes.
const tornadoClient = `
import sys
from tornado.ioloop import IOLoop
from tornado.tcpclient import TCPClient

async def main(host, port, lines):
    stream = await TCPClient().connect(host, port)
    for line in lines:
        await stream.write(line.encode() + b"\n")
        reply = await stream.read_until(b"\n")
        sys.stdout.write(reply.decode())
    big = b"x" * 200000
    await stream.write(big[:40000] + b"\n")
    reply = await stream.read_until(b"\n", max_bytes=50000)
    sys.stdout.write("big %d\n" % len(reply))
    stream.close()

IOLoop.current().run_sync(lambda: main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]), timeout=20)
`

// TestTornadoClient has Tornado's IOStream client talk to whirl's tcpecho
// server.
func TestTornadoClient(t *testing.T) {
	needTornado(t)
	host, port := splitAddr(t, startServer(t))
	lines := []string{"ping", "hello from tornado", "", "last"}
	args := append([]string{"-c", tornadoClient, host, strconv.Itoa(port)}, lines...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tornado client: %v\n%s", err, out)
	}
	want := strings.Join(lines, "\n") + "\nbig 40001\n"
	if string(out) != want {
		t.Errorf("tornado client printed %q, want %q", out, want)
	}
}

// tornadoServer is Tornado's TCPServer echoing lines, printing its port.
const tornadoServer = `
import sys
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.tcpserver import TCPServer
from tornado.netutil import bind_sockets

class Echo(TCPServer):
    async def handle_stream(self, stream, address):
        try:
            while True:
                line = await stream.read_until(b"\n")
                await stream.write(line)
        except StreamClosedError:
            pass

socks = bind_sockets(0, "127.0.0.1")
Echo().add_sockets(socks)
print(socks[0].getsockname()[1], flush=True)
IOLoop.current().start()
`

// TestTornadoServer has whirl's tcpecho client talk to a Tornado server.
func TestTornadoServer(t *testing.T) {
	needTornado(t)
	cmd := exec.Command(python, "-c", tornadoServer)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	portLine := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		portLine <- strings.TrimSpace(line)
	}()
	var port int
	select {
	case p := <-portLine:
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatalf("tornado server printed %q, want its port (stderr %s)", p, &stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("tornado server did not start: %s", &stderr)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tcpecho.Send(ctx, "127.0.0.1", port, "ping from whirl", &out); err != nil {
		t.Fatalf("Send: %v (tornado stderr %s)", err, &stderr)
	}
	if want := "Sent to server: ping from whirl\nResponse from server: ping from whirl\n"; out.String() != want {
		t.Errorf("client printed %q, want %q", out.String(), want)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
