package harness

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// NetworkUnix is the Scenario.Network of an echo load over a UNIX socket:
// the scenario runs the UNIX servers (servers.FamilyUnix), each on a fresh
// socket path the harness makes for the cell.
const NetworkUnix = "unix"

// UnixScenarios are the echo loads over a UNIX socket, the shapes of the
// TCP ones (pingpong-64B-100c, pipelined-4KiB-100c) with the same client,
// run only when named (--scenarios) and against the UNIX servers only. Any
// goroutine.
func UnixScenarios() []Scenario {
	return []Scenario{
		{Name: "unix-pingpong-64B-100c", Title: "UNIX socket, 64 B ping-pong, 100 connections", Mode: ModeEcho, Network: NetworkUnix, Conns: 100, Size: 64, Depth: 1},
		{Name: "unix-pipelined-4KiB-100c", Title: "UNIX socket, 4 KiB pipelined 8 deep, 100 connections", Mode: ModeEcho, Network: NetworkUnix, Conns: 100, Size: 4096, Depth: 8},
	}
}

// UnixServers lists the UNIX-socket servers, gnet's (the baseline) first.
// Any goroutine.
func UnixServers() []string { return []string{servers.GnetUnix, servers.WhirlUnix} }

func init() {
	serverColors[servers.GnetUnix] = serverColors[servers.Gnet]
	serverColors[servers.WhirlUnix] = serverColors[servers.Whirl]
}

// maxUnixPath is the longest socket path Linux binds: sun_path is 108
// bytes with its terminating NUL.
const maxUnixPath = 107

// unixListen makes a fresh directory for a UNIX server's socket and returns
// the server's --listen address (servers.UnixPrefix and the path) and a
// function that removes the directory once the server stopped.
func unixListen() (listen string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "whirl-bench-unix-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { _ = os.RemoveAll(dir) }
	path := filepath.Join(dir, "echo.sock")
	if len(path) > maxUnixPath {
		remove()
		return "", nil, fmt.Errorf("harness: socket path %s is longer than %d bytes (set TMPDIR to a shorter directory)", path, maxUnixPath)
	}
	return servers.UnixPrefix + path, remove, nil
}

// readyAddr is how a server child reports its address on the LISTENING
// line, the form the client's --addr takes: host:port, or loadgen's
// "unix:PATH" for a UNIX socket.
func readyAddr(a net.Addr) string {
	if ua, ok := a.(*net.UnixAddr); ok {
		return loadgen.UnixAddr(ua.Name)
	}
	return a.String()
}
