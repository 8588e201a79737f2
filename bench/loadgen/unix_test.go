package loadgen_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
)

// unixServer runs a test server on a UNIX socket in the test's temporary
// directory that calls handle for each connection, until the test ends, and
// returns its "unix:" address.
func unixServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln, handle)
	return loadgen.UnixAddr(path)
}

// TestUnix runs every stream load of the generator against a UNIX-socket
// echo and checks every echo came back right.
func TestUnix(t *testing.T) {
	addr := unixServer(t, echo(nil))
	if !strings.HasPrefix(addr, loadgen.UnixPrefix) {
		t.Fatalf("UnixAddr = %q", addr)
	}
	cfg := loadgen.Config{Addr: addr, Conns: 4, Size: 64, Depth: 1, Loops: 1,
		Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond}
	pipelined := cfg
	pipelined.Size, pipelined.Depth = 4096, 8
	for _, tt := range []struct {
		name string
		run  func(context.Context, loadgen.Config) (loadgen.Result, error)
		cfg  loadgen.Config
	}{
		{"Run ping-pong", loadgen.Run, cfg},
		{"Run pipelined", loadgen.Run, pipelined},
		{"RunWhirl ping-pong", loadgen.RunWhirl, cfg},
		{"RunWhirl pipelined", loadgen.RunWhirl, pipelined},
		{"Setup", loadgen.Setup, cfg},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() || res.Verified == 0 {
				t.Fatalf("result not OK: %+v", res)
			}
		})
	}
	t.Run("Hold", func(t *testing.T) {
		h, err := loadgen.Hold(context.Background(), loadgen.Config{Addr: addr, Conns: 20, Size: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if !h.Result.OK() || h.Result.Verified != 20 {
			t.Errorf("result not OK: %+v", h.Result)
		}
	})
}

// TestUnixCatchesBadEcho checks a corrupted echo over a UNIX socket is
// caught as over TCP.
func TestUnixCatchesBadEcho(t *testing.T) {
	addr := unixServer(t, echo(func(_ int, p []byte) []byte { p[len(p)-3]++; return p }))
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Addr: addr, Conns: 2, Size: 64, Duration: 50 * time.Millisecond, DrainTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches != 2 || res.OK() {
		t.Errorf("got Mismatches %d, OK %v; want 2, false (%+v)", res.Mismatches, res.OK(), res)
	}
}

func TestUnixDialFails(t *testing.T) {
	addr := loadgen.UnixAddr(filepath.Join(t.TempDir(), "nobody.sock"))
	cfg := loadgen.Config{Addr: addr, Conns: 2, Size: 64, Duration: time.Second}
	if _, err := loadgen.Run(context.Background(), cfg); err == nil {
		t.Error("Run against a missing socket returned no error")
	}
	if _, err := loadgen.RunWhirl(context.Background(), cfg); err == nil {
		t.Error("RunWhirl against a missing socket returned no error")
	}
}

func TestUnixConfigErrors(t *testing.T) {
	for _, addr := range []string{loadgen.UnixPrefix, loadgen.UnixAddr("@")} {
		cfg := loadgen.Config{Addr: addr, Conns: 1, Size: 64, Duration: time.Second}
		if _, err := loadgen.Run(context.Background(), cfg); !errors.Is(err, loadgen.ErrConfig) {
			t.Errorf("Run(%q): err = %v, want ErrConfig", addr, err)
		}
		if _, err := loadgen.RunPush(context.Background(), cfg); !errors.Is(err, loadgen.ErrConfig) {
			t.Errorf("RunPush(%q): err = %v, want ErrConfig", addr, err)
		}
	}
}
