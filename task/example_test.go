package task_test

import (
	"fmt"
	"time"

	"github.com/whirl-go/whirl/task"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func ExampleNewLoopingCallWithCount() {
	clock := transporttest.NewClock()
	lc := task.NewLoopingCallWithCount(clock, func(count int) {
		fmt.Printf("at %v: %d interval(s)\n", clock.Now().Sub(transporttest.Epoch), count)
	})
	_ = lc.Start(10*time.Second, true) // calls at once
	clock.Advance(10 * time.Second)
	clock.Advance(25 * time.Second) // late: the calls due at 20s and 30s become one
	clock.Advance(5 * time.Second)  // back on the schedule of the start
	_ = lc.Stop()
	clock.Advance(time.Hour)
	fmt.Println("running:", lc.Running())
	// Output:
	// at 0s: 1 interval(s)
	// at 10s: 1 interval(s)
	// at 35s: 2 interval(s)
	// at 40s: 1 interval(s)
	// running: false
}

// A heartbeat on a connection's loop: the calls run on the loop, with the
// protocol's callbacks, so they may write to the transport directly. A
// protocol would start it in ConnectionMade and stop it in ConnectionLost.
func ExampleLoopingCall() {
	tr := transporttest.New()
	beats := 0
	heartbeat := task.NewLoopingCall(tr.Loop(), func() {
		beats++
		fmt.Fprintf(tr, "beat %d\n", beats)
	})
	_ = heartbeat.Start(15*time.Second, false)
	tr.Clock().Pump(15*time.Second, 15*time.Second)
	_ = heartbeat.Stop()
	tr.Clock().Advance(time.Minute)
	fmt.Print(string(tr.Value()))
	// Output:
	// beat 1
	// beat 2
}
