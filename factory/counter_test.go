package factory_test

import (
	"net"
	"testing"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

type countingFactory struct {
	starts, stops int
	panicOnStart  bool
}

func (f *countingFactory) BuildProtocol(net.Addr) protocol.Protocol { return nil }
func (f *countingFactory) StopFactory()                             { f.stops++ }
func (f *countingFactory) StartFactory() {
	if f.panicOnStart {
		panic("start failed")
	}
	f.starts++
}

func TestStartCounter(t *testing.T) {
	var c factory.StartCounter
	f := &countingFactory{}
	c.Stop(f) // nothing to match
	c.Start(f)
	c.Start(f)
	c.Stop(f)
	if f.starts != 1 || f.stops != 0 {
		t.Fatalf("after 2 starts, 1 stop: %d starts, %d stops", f.starts, f.stops)
	}
	c.Stop(f)
	c.Stop(f)
	if f.starts != 1 || f.stops != 1 {
		t.Fatalf("after 2 starts, 3 stops: %d starts, %d stops", f.starts, f.stops)
	}

	f = &countingFactory{panicOnStart: true}
	func() {
		defer func() { _ = recover() }()
		c.Start(f)
	}()
	f.panicOnStart = false
	c.Start(f) // the failed start was not counted: this one starts it
	if f.starts != 1 {
		t.Fatalf("after a panicking start: %d starts", f.starts)
	}
}
