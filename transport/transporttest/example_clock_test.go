package transporttest_test

import (
	"fmt"
	"time"

	"github.com/whirl-go/whirl/transport/transporttest"
)

func ExampleClock() {
	c := transporttest.NewClock()
	start := c.Now()
	say := func(s string) func() {
		return func() { fmt.Printf("%v: %s\n", c.Now().Sub(start), s) }
	}
	c.CallLater(2*time.Second, say("two"))
	c.CallLater(time.Second, say("one"))
	late := c.CallLater(time.Second, say("cancelled"))
	c.CallLater(3*time.Second, say("three"))
	_ = late.Cancel()

	c.Advance(time.Second)
	fmt.Println("pending:", len(c.Calls()))
	c.Advance(5 * time.Second) // the time moves first, then due calls run
	// Output:
	// 1s: one
	// pending: 2
	// 6s: two
	// 6s: three
}

func ExampleLoop_CallSoon() {
	l := transporttest.NewLoop(transporttest.NewClock())
	_ = l.CallSoon(func() { fmt.Println("first") })
	_ = l.CallSoon(func() { fmt.Println("second") })
	fmt.Println("scheduled")
	l.Clock().Advance(0)
	// Output:
	// scheduled
	// first
	// second
}

func ExampleChunks() {
	for _, size := range transporttest.ChunkSizes {
		fmt.Printf("%d: %q\n", size, transporttest.Chunks([]byte("abcdefg"), size))
	}
	// Output:
	// 1: ["a" "b" "c" "d" "e" "f" "g"]
	// 2: ["ab" "cd" "ef" "g"]
	// 3: ["abc" "def" "g"]
	// 0: ["abcdefg"]
}
