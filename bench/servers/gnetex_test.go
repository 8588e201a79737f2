package servers_test

import (
	"context"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// TestGnetexServers runs each server of gnet's examples and its whirl port
// for a short load of its family, checking every answer.
func TestGnetexServers(t *testing.T) {
	loads := map[string]func(context.Context, loadgen.Config) (loadgen.Result, error){
		servers.FamilySimpleProto: func(ctx context.Context, c loadgen.Config) (loadgen.Result, error) {
			return loadgen.RunFramed(ctx, c, loadgen.SimpleProtoFraming)
		},
		servers.FamilyWebSocket: func(ctx context.Context, c loadgen.Config) (loadgen.Result, error) {
			return loadgen.RunFramed(ctx, c, loadgen.WebSocketFraming)
		},
		servers.FamilyPush: loadgen.RunPush,
		servers.FamilyHTTP: func(ctx context.Context, c loadgen.Config) (loadgen.Result, error) {
			if _, err := loadgen.WrkPath(); err != nil {
				t.Skip(err)
			}
			return loadgen.RunWrk(ctx, c, "/plaintext", "Hello World!")
		},
	}
	for _, kind := range servers.Kinds() {
		load := loads[servers.Family(kind)]
		if load == nil {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			addr := start(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := load(ctx, loadgen.Config{Addr: addr, Conns: 4, Size: 64, Depth: 4, Loops: 1, Duration: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("%+v", res)
			}
		})
	}
}
