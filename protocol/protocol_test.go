package protocol_test

import (
	"errors"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// direct embeds Base and counts its callbacks.
type direct struct {
	protocol.Base
	made int
	data []string
	lost []error
}

func (d *direct) ConnectionMade()             { d.made++ }
func (d *direct) DataReceived(data []byte)    { d.data = append(d.data, string(data)) }
func (d *direct) ConnectionLost(reason error) { d.lost = append(d.lost, reason) }

// lineHandler is what lineBase calls on the protocol that embeds it.
type lineHandler interface {
	LineReceived(line string)
}

// lineBase is a base built on Base, as a line receiver is: it reaches the
// user's method through Self.
type lineBase struct {
	protocol.Base
}

func (b *lineBase) DataReceived(data []byte) {
	b.Self().(lineHandler).LineReceived(string(data))
}

// nested embeds Base through lineBase: two levels down.
type nested struct {
	lineBase
	made  int
	lines []string
}

func (n *nested) ConnectionMade()          { n.made++ }
func (n *nested) LineReceived(line string) { n.lines = append(n.lines, line) }

// bare implements Protocol without embedding Base.
type bare struct {
	made int
}

func (b *bare) ConnectionMade()      { b.made++ }
func (b *bare) DataReceived([]byte)  {}
func (b *bare) ConnectionLost(error) {}

func TestMakeConnection(t *testing.T) {
	tests := []struct {
		name string
		new  func() (p protocol.Protocol, base *protocol.Base, made func() int)
	}{
		{"direct", func() (protocol.Protocol, *protocol.Base, func() int) {
			p := &direct{}
			return p, &p.Base, func() int { return p.made }
		}},
		{"two levels", func() (protocol.Protocol, *protocol.Base, func() int) {
			p := &nested{}
			return p, &p.Base, func() int { return p.made }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, base, made := tt.new()
			tr := transporttest.New()
			protocol.MakeConnection(p, tr)

			if got := base.Transport(); got != transport.Transport(tr) {
				t.Errorf("Transport() = %v, want the transport given to MakeConnection", got)
			}
			if got := base.Self(); got != p {
				t.Errorf("Self() = %T %p, want the outer value %T %p", got, got, p, p)
			}
			if got := made(); got != 1 {
				t.Errorf("ConnectionMade called %d times, want 1", got)
			}
		})
	}
}

func TestSelfReachesOuterMethods(t *testing.T) {
	p := &nested{}
	protocol.MakeConnection(p, transporttest.New())
	for _, line := range []string{"one", "two"} {
		p.DataReceived([]byte(line))
	}
	if len(p.lines) != 2 || p.lines[0] != "one" || p.lines[1] != "two" {
		t.Errorf("lines = %q, want [one two]", p.lines)
	}
}

func TestMakeConnectionCallbacksUnchanged(t *testing.T) {
	p := &direct{}
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("x"))
	p.ConnectionLost(transport.ErrConnectionDone)
	if p.made != 1 || len(p.data) != 1 || len(p.lost) != 1 || !errors.Is(p.lost[0], transport.ErrConnectionDone) {
		t.Errorf("made, data, lost = %d, %q, %v; want 1, [x], [%v]", p.made, p.data, p.lost, transport.ErrConnectionDone)
	}
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("MakeConnection wrote %q, want nothing", got)
	}
}

func TestWire(t *testing.T) {
	tr := transporttest.New()

	p := &nested{}
	if !protocol.Wire(p, tr) {
		t.Error("Wire(protocol embedding Base) = false, want true")
	}
	if p.made != 0 {
		t.Errorf("Wire called ConnectionMade %d times, want 0", p.made)
	}
	if got := p.Transport(); got != transport.Transport(tr) {
		t.Errorf("Transport() after Wire = %v, want the transport given", got)
	}
	if got := p.Self(); got != protocol.Protocol(p) {
		t.Errorf("Self() after Wire = %p, want %p", got, p)
	}

	b := &bare{}
	if protocol.Wire(b, tr) {
		t.Error("Wire(protocol without Base) = true, want false")
	}
	if b.made != 0 {
		t.Errorf("Wire called ConnectionMade %d times, want 0", b.made)
	}
}

func TestMakeConnectionWithoutBase(t *testing.T) {
	b := &bare{}
	protocol.MakeConnection(b, transporttest.New())
	if b.made != 1 {
		t.Errorf("ConnectionMade called %d times, want 1", b.made)
	}
}

func TestBaseDefaults(t *testing.T) {
	var zero protocol.Base
	if got := zero.Transport(); got != nil {
		t.Errorf("Transport() of a zero Base = %v, want nil", got)
	}
	if got := zero.Self(); got != nil {
		t.Errorf("Self() of a zero Base = %v, want nil", got)
	}
	// The defaults do nothing, even unwired.
	zero.ConnectionMade()
	zero.DataReceived([]byte("ignored"))
	zero.DataReceived(nil)
	zero.ConnectionLost(transport.ErrConnectionLost)

	// Base alone is a Protocol that ignores everything.
	p := &protocol.Base{}
	tr := transporttest.New()
	protocol.MakeConnection(p, tr)
	p.DataReceived([]byte("ignored"))
	p.ConnectionLost(transport.ErrConnectionDone)
	tr.Clock().Advance(0)
	if got := p.Self(); got != protocol.Protocol(p) {
		t.Errorf("Self() = %v, want the Base itself", got)
	}
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("Base wrote %q, want nothing", got)
	}
	if !tr.Connected() {
		t.Error("Base closed the connection")
	}
	if got := len(tr.Clock().Calls()); got != 0 {
		t.Errorf("Base scheduled %d calls, want 0", got)
	}
}
