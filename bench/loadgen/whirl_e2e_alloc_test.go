//go:build !race

package loadgen_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// TestRunWhirlAgainstBenchServers runs the whirl client against every Go
// TCP echo server of the bench (servers.FamilyEcho), in this process, and checks that the whole process
// (client and server, both at 0 per message) made next to no heap
// allocations per message over the window: Result.ClientMallocs, the figure
// the harness reports per client.
func TestRunWhirlAgainstBenchServers(t *testing.T) {
	for _, kind := range servers.Kinds() {
		if servers.Family(kind) != servers.FamilyEcho {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			addrc := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- servers.Serve(ctx, kind, "127.0.0.1:0", servers.Options{Loops: 1}, func(a net.Addr) { addrc <- a.String() })
			}()
			t.Cleanup(func() { cancel(); <-done })
			var addr string
			select {
			case addr = <-addrc:
			case err := <-done:
				t.Fatal(err)
			}
			res, err := loadgen.RunWhirl(context.Background(), loadgen.Config{
				Addr: addr, Conns: 10, Size: 64, Depth: 2, Loops: 1,
				Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
			})
			if err != nil || !res.OK() {
				t.Fatalf("err %v, result %+v", err, res)
			}
			if res.Messages < 1000 {
				t.Skipf("only %d messages in the window: too few to count allocations per message", res.Messages)
			}
			if per := float64(res.ClientMallocs) / float64(res.Messages); per >= 0.01 {
				t.Errorf("%d allocations for %d messages (%.3f per message), want < 0.01", res.ClientMallocs, res.Messages, per)
			}
			t.Logf("%d messages, %d allocations in the window", res.Messages, res.ClientMallocs)
		})
	}
}
