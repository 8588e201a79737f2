package protocol_test

import (
	"errors"
	"testing"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// The protocols below embed a receiver, forgot its callback, and override
// ConnectionMade without calling the receiver's: MakeConnection must refuse
// them all the same.

type noLines struct {
	protocol.LineReceiver
	made int
}

func (p *noLines) ConnectionMade() { p.made++ }
func (p *noLines) madeCount() int  { return p.made }

type noLinesOnly struct {
	protocol.LineOnlyReceiver
	made int
}

func (p *noLinesOnly) ConnectionMade() { p.made++ }
func (p *noLinesOnly) madeCount() int  { return p.made }

type noInt8 struct {
	protocol.Int8StringReceiver
	made int
}

func (p *noInt8) ConnectionMade() { p.made++ }
func (p *noInt8) madeCount() int  { return p.made }

type noInt16 struct {
	protocol.Int16StringReceiver
	made int
}

func (p *noInt16) ConnectionMade() { p.made++ }
func (p *noInt16) madeCount() int  { return p.made }

type noInt32 struct {
	protocol.Int32StringReceiver
	made int
}

func (p *noInt32) ConnectionMade() { p.made++ }
func (p *noInt32) madeCount() int  { return p.made }

type noNetstrings struct {
	protocol.NetstringReceiver
	made int
}

func (p *noNetstrings) ConnectionMade() { p.made++ }
func (p *noNetstrings) madeCount() int  { return p.made }

// misspelt has a LineReceived with the wrong signature.
type misspelt struct{ protocol.LineReceiver }

func (*misspelt) LineReceived(line string) {}

func TestMakeConnectionRefusesMissingCallback(t *testing.T) {
	const (
		lineMsg = "protocol: line receiver without a LineReceived method: "
		strMsg  = "protocol: string receiver without a StringReceived method: "
	)
	tests := []struct {
		name    string
		p       protocol.Protocol
		input   string
		wantErr error
		wantMsg string
	}{
		{"LineReceiver", &noLines{}, "a\r\n", protocol.ErrNoLineReceived,
			lineMsg + "*protocol_test.noLines embeds LineReceiver but has no LineReceived(line []byte) method"},
		{"LineOnlyReceiver", &noLinesOnly{}, "a\r\n", protocol.ErrNoLineReceived,
			lineMsg + "*protocol_test.noLinesOnly embeds LineOnlyReceiver but has no LineReceived(line []byte) method"},
		{"LineReceived(string)", &misspelt{}, "a\r\n", protocol.ErrNoLineReceived,
			lineMsg + "*protocol_test.misspelt embeds LineReceiver but has no LineReceived(line []byte) method"},
		{"bare LineReceiver", &protocol.LineReceiver{}, "a\r\n", protocol.ErrNoLineReceived,
			lineMsg + "*protocol.LineReceiver embeds LineReceiver but has no LineReceived(line []byte) method"},
		{"Int8", &noInt8{}, "\x01a", protocol.ErrNoStringReceived,
			strMsg + "*protocol_test.noInt8 embeds Int8StringReceiver but has no StringReceived(s []byte) method"},
		{"Int16", &noInt16{}, "\x00\x01a", protocol.ErrNoStringReceived,
			strMsg + "*protocol_test.noInt16 embeds Int16StringReceiver but has no StringReceived(s []byte) method"},
		{"Int32", &noInt32{}, "\x00\x00\x00\x01a", protocol.ErrNoStringReceived,
			strMsg + "*protocol_test.noInt32 embeds Int32StringReceiver but has no StringReceived(s []byte) method"},
		{"bare Int32", &protocol.Int32StringReceiver{}, "\x00\x00\x00\x01a", protocol.ErrNoStringReceived,
			strMsg + "*protocol.Int32StringReceiver embeds Int32StringReceiver but has no StringReceived(s []byte) method"},
		{"Netstring", &noNetstrings{}, "1:a,", protocol.ErrNoStringReceived,
			strMsg + "*protocol_test.noNetstrings embeds NetstringReceiver but has no StringReceived(s []byte) method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			protocol.MakeConnection(tt.p, tr)
			err := tr.CloseError()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CloseError() = %v, want an error matching %v", err, tt.wantErr)
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("CloseError() = %q, want %q", got, tt.wantMsg)
			}
			if !tr.Disconnecting() || tr.Aborted() {
				t.Errorf("Disconnecting() %v, Aborted() %v; want closed with CloseWithError (not aborted)", tr.Disconnecting(), tr.Aborted())
			}
			if m, ok := tt.p.(interface{ madeCount() int }); ok && m.madeCount() != 1 {
				t.Errorf("the protocol's ConnectionMade ran %d times, want once (paired with ConnectionLost)", m.madeCount())
			}
			// The reactor delivers nothing to a closing connection; a test
			// that does anyway gets nothing either, and no panic.
			for _, size := range transporttest.ChunkSizes {
				for _, piece := range transporttest.Chunks([]byte(tt.input), size) {
					tt.p.DataReceived(piece)
				}
			}
		})
	}
}

// TestWireDoesNotRefuse checks that Wire, which tests and bases use to set a
// protocol up without ConnectionMade, leaves the transport alone: only
// MakeConnection refuses.
func TestWireDoesNotRefuse(t *testing.T) {
	tr := transporttest.New()
	p := &noLines{}
	if !protocol.Wire(p, tr) {
		t.Fatal("Wire() = false, want true")
	}
	if tr.Disconnecting() || tr.CloseError() != nil {
		t.Errorf("Wire closed the transport (CloseError %v)", tr.CloseError())
	}
}

// TestHandlerAssertions pins that the test protocols implement the exported
// handler interfaces, as users are told to check.
func TestHandlerAssertions(t *testing.T) {
	var _ protocol.LineHandler = (*lineRec)(nil)
	var _ protocol.LineHandler = (*onlyRec)(nil)
	var _ protocol.StringHandler = (*int32Plain)(nil)
	var _ protocol.StringHandler = (*netPlain)(nil)
	var _ transport.ProducerWrapper = (*lineRec)(nil)
	var _ transport.ProducerWrapper = (*onlyRec)(nil)
	var _ transport.ProducerWrapper = (*int8Plain)(nil)
	var _ transport.ProducerWrapper = (*int16Plain)(nil)
	var _ transport.ProducerWrapper = (*int32Plain)(nil)
	var _ transport.ProducerWrapper = (*netPlain)(nil)
}
