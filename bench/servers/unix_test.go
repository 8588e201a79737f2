package servers_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

var unixKinds = []string{servers.GnetUnix, servers.WhirlUnix}

// unixListen returns a fresh socket path in the test's temporary
// directory, and the Serve address of it.
func unixListen(t *testing.T) (path, addr string) {
	path = filepath.Join(t.TempDir(), "s.sock")
	return path, servers.UnixPrefix + path
}

// TestServeUnix checks each UNIX server reports its path, echoes whatever
// it is sent in pieces, and removes its socket file when it stops.
func TestServeUnix(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789abcdef"), 300)
	for _, kind := range unixKinds {
		t.Run(kind, func(t *testing.T) {
			if !servers.Unix(kind) || !servers.Known(kind) || servers.Family(kind) != servers.FamilyUnix {
				t.Fatalf("%s: Unix %v, Known %v, Family %q", kind, servers.Unix(kind), servers.Known(kind), servers.Family(kind))
			}
			path, addr := unixListen(t)
			t.Run("serve", func(t *testing.T) {
				a := startAt(t, kind, addr)
				if ua, ok := a.(*net.UnixAddr); !ok || ua.Name != path {
					t.Fatalf("ready with %T %v, want the *net.UnixAddr %s", a, a, path)
				}
				for _, chunk := range []int{1, 3, 100, len(msg)} {
					c, err := net.Dial("unix", path)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(10 * time.Second))
					echoInChunks(t, c, msg, chunk)
				}
			})
			// The subtest's cleanup stopped the server.
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket file after the server stopped: %v", err)
			}
		})
	}
}

// TestServeUnixLoad runs the bench's echo client against each UNIX server
// in the shapes of the unix scenarios (ping-pong 64 B, 4 KiB pipelined 8
// deep), with fewer connections and a short window, checking every echo.
func TestServeUnixLoad(t *testing.T) {
	for _, kind := range unixKinds {
		t.Run(kind, func(t *testing.T) {
			path, addr := unixListen(t)
			startAt(t, kind, addr)
			for _, shape := range []struct{ size, depth int }{{64, 1}, {4096, 8}} {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := loadgen.Run(ctx, loadgen.Config{
					Addr: loadgen.UnixAddr(path), Conns: 10, Size: shape.size, Depth: shape.depth,
					Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond,
				})
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if !res.OK() {
					t.Fatalf("%d B × %d: %+v", shape.size, shape.depth, res)
				}
			}
		})
	}
}

// TestServeUnixNeedsPath checks a UNIX server given no "unix:" address
// refuses it rather than making a socket file of a TCP address.
func TestServeUnixNeedsPath(t *testing.T) {
	for _, kind := range unixKinds {
		for _, addr := range []string{"127.0.0.1:0", servers.UnixPrefix} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := servers.Serve(ctx, kind, addr, servers.Options{Loops: 1}, nil)
			cancel()
			if err == nil {
				t.Errorf("Serve(%s, %q) returned nil", kind, addr)
			}
		}
	}
}

// TestServeUnixInUse checks whirl-unix refuses a path where a socket
// listens. (gnet-unix removes the file and binds anyway, as gnet does.)
func TestServeUnixInUse(t *testing.T) {
	path, addr := unixListen(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := servers.Serve(ctx, servers.WhirlUnix, addr, servers.Options{Loops: 1}, nil); err == nil {
		t.Error("Serve on a path in use returned nil")
	}
}
