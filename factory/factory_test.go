package factory_test

import (
	"net"
	"testing"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

type counter struct {
	protocol.Base
	id int
}

func TestForProtocol(t *testing.T) {
	built := 0
	f := factory.ForProtocol(func() protocol.Protocol {
		built++
		return &counter{id: built}
	})

	addrs := []net.Addr{
		transporttest.New().RemoteAddr(),
		&net.TCPAddr{IP: net.ParseIP("2001:db8::2"), Port: 1},
		nil,
	}
	seen := make(map[protocol.Protocol]bool)
	for i, addr := range addrs {
		p := f.BuildProtocol(addr)
		c, ok := p.(*counter)
		if !ok {
			t.Fatalf("BuildProtocol(%v) = %T, want *counter", addr, p)
		}
		if c.id != i+1 {
			t.Errorf("BuildProtocol(%v) returned protocol %d, want %d", addr, c.id, i+1)
		}
		if seen[p] {
			t.Errorf("BuildProtocol(%v) returned a protocol it returned before", addr)
		}
		seen[p] = true
	}
	if built != len(addrs) {
		t.Errorf("newProtocol called %d times, want %d", built, len(addrs))
	}
}

func TestForProtocolNil(t *testing.T) {
	f := factory.ForProtocol(func() protocol.Protocol { return nil })
	if p := f.BuildProtocol(transporttest.New().RemoteAddr()); p != nil {
		t.Errorf("BuildProtocol() = %v, want nil (connection refused)", p)
	}
}

func TestForProtocolHooks(t *testing.T) {
	built := 0
	f := factory.ForProtocol(func() protocol.Protocol { built++; return &counter{} })
	f.StartFactory()
	f.StopFactory()
	f.StartFactory()
	if built != 0 {
		t.Errorf("StartFactory/StopFactory built %d protocols, want 0", built)
	}
}

func TestBaseHooks(t *testing.T) {
	var b factory.Base
	b.StartFactory()
	b.StopFactory()
	(&b).StartFactory()
	(&b).StopFactory()
}

// room is state shared by the protocols of one factory.
type room struct {
	members []*member
}

// member is a protocol with a back-pointer set by its factory.
type member struct {
	protocol.Base
	room *room
}

// roomFactory overrides StartFactory and keeps Base's StopFactory.
type roomFactory struct {
	factory.Base
	room    *room
	started int
}

var _ factory.Factory = (*roomFactory)(nil)

func (f *roomFactory) BuildProtocol(net.Addr) protocol.Protocol {
	m := &member{room: f.room}
	f.room.members = append(f.room.members, m)
	return m
}

func (f *roomFactory) StartFactory() { f.started++ }

func TestCustomFactory(t *testing.T) {
	r := &room{}
	rf := &roomFactory{room: r}
	var f factory.Factory = rf

	f.StartFactory()
	f.StopFactory()
	if rf.started != 1 {
		t.Errorf("StartFactory override called %d times, want 1", rf.started)
	}

	for range 2 {
		tr := transporttest.New()
		p := f.BuildProtocol(tr.RemoteAddr())
		m, ok := p.(*member)
		if !ok {
			t.Fatalf("BuildProtocol() = %T, want *member", p)
		}
		if m.room != r {
			t.Error("protocol's back-pointer is not the factory's room")
		}
		protocol.MakeConnection(p, tr)
		if m.Transport() != tr {
			t.Error("Transport() is not the transport given to MakeConnection")
		}
	}
	if got := len(r.members); got != 2 {
		t.Errorf("room has %d members, want 2", got)
	}
	if r.members[0] == r.members[1] {
		t.Error("BuildProtocol returned the same protocol twice")
	}
}
