package loadgen

import (
	"fmt"
	"strings"
)

// UnixPrefix starts a Config.Addr that names a UNIX socket rather than a TCP
// host:port: "unix:/tmp/bench/s.sock" is the stream socket at that path
// (whirl's endpoint strings write it the same way). Run, RunWhirl, Setup,
// Hold, RunFramed and RunPush dial it; RunUDP and RunWrk take host:port only.
const UnixPrefix = "unix:"

// UnixAddr returns the Config.Addr of the UNIX socket at path. Any goroutine.
func UnixAddr(path string) string { return UnixPrefix + path }

// splitAddr returns what to dial for a Config.Addr: ("unix", PATH) for
// "unix:PATH", ("tcp", addr) for anything else.
func splitAddr(addr string) (network, address string) {
	if path, ok := strings.CutPrefix(addr, UnixPrefix); ok {
		return "unix", path
	}
	return "tcp", addr
}

// checkAddr refuses a Config.Addr that names no socket.
func checkAddr(addr string) error {
	switch network, address := splitAddr(addr); {
	case address == "":
		return fmt.Errorf("%w: no address", ErrConfig)
	case network == "unix" && address == "@":
		return fmt.Errorf("%w: no UNIX socket path in %q", ErrConfig, addr)
	}
	return nil
}
