package push_test

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whirl-go/whirl/examples/push/push"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// Two connections on one loop of package transporttest, whose fake clock
// starts at [transporttest.Epoch] and moves only when the example advances
// it: the ticks, and so the timestamps pushed, are the same on every run.
// The example plays the reactor's part: it makes the connections, advances
// the clock, feeds one connection a line to echo, and closes the other.
func Example() {
	loop := transporttest.NewLoop(transporttest.NewClock())
	f := &push.Factory{Interval: time.Second}
	a, b := transporttest.NewWithLoop(loop), transporttest.NewWithLoop(loop)
	pa, pb := f.BuildProtocol(nil), f.BuildProtocol(nil)
	protocol.MakeConnection(pa, a) // the first connection starts the ticker
	protocol.MakeConnection(pb, b)

	loop.Clock().Advance(time.Second) // one tick: a line to each connection
	pa.DataReceived([]byte("hello\n"))
	b.LoseConnection()
	pb.ConnectionLost(transport.ErrConnectionDone) // the reactor's part, once b is closed: b leaves the ticker
	loop.Clock().Advance(time.Second)

	// show prints what a connection received, a timestamp line as the time
	// it holds.
	show := func(name string, tr *transporttest.Transport) {
		for line := range strings.Lines(string(tr.Value())) {
			if ns, err := strconv.ParseInt(strings.TrimSuffix(line, "\n"), 10, 64); err == nil {
				line = time.Unix(0, ns).UTC().Format(time.RFC3339Nano) + "\n"
			}
			fmt.Printf("%s: %s", name, line)
		}
	}
	show("a", a)
	show("b", b)
	fmt.Println("pushed:", f.Pushed())

	a.LoseConnection()
	pa.ConnectionLost(transport.ErrConnectionDone) // the last connection goes: the next tick stops the ticker
	loop.Clock().Advance(time.Second)
	fmt.Println("calls scheduled:", len(loop.Clock().Calls()))
	// Output:
	// a: 2000-01-01T00:00:01Z
	// a: hello
	// a: 2000-01-01T00:00:02Z
	// b: 2000-01-01T00:00:01Z
	// pushed: 3
	// calls scheduled: 0
}
