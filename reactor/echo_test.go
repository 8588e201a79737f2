package reactor_test

import (
	"testing"

	"github.com/whirl-go/whirl/reactor"
)

func TestEcho(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p := listen(t, r, echoFactory())
	running(t, r)
	for i := 0; i < 4; i++ {
		c := dial(t, p)
		roundTrip(t, c, "hello")
		roundTrip(t, c, "world, again")
	}
}
