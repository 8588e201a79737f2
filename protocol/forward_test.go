package protocol_test

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// forwarder is the smallest wrapper: Forwarding and nothing else.
type forwarder struct{ protocol.Forwarding }

// producer is a transport.Producer that does nothing.
type producer struct{}

func (producer) PauseProducing()  {}
func (producer) ResumeProducing() {}
func (producer) StopProducing()   {}

// TestForwardingPassesEveryCallOn calls each transport method on a
// Forwarding and checks the real transport (transporttest's) got it.
func TestForwardingPassesEveryCallOn(t *testing.T) {
	steps := []struct {
		name  string
		call  func(f transport.Transport) error
		check func(tr *transporttest.Transport) bool
	}{
		{"Write", func(f transport.Transport) error { _, err := f.Write([]byte("ab")); return err },
			func(tr *transporttest.Transport) bool { return string(tr.Value()) == "ab" }},
		{"WriteSequence", func(f transport.Transport) error { return f.WriteSequence([][]byte{[]byte("a"), []byte("b")}) },
			func(tr *transporttest.Transport) bool { return string(tr.Value()) == "ab" }},
		{"SetTCPNoDelay", func(f transport.Transport) error { return f.SetTCPNoDelay(true) },
			func(tr *transporttest.Transport) bool { return tr.NoDelay() }},
		{"SetTCPKeepAlive", func(f transport.Transport) error { return f.SetTCPKeepAlive(time.Minute, time.Second, 3) },
			func(tr *transporttest.Transport) bool { idle, _, _ := tr.KeepAlive(); return idle == time.Minute }},
		{"SetWriteWatermarks", func(f transport.Transport) error { f.SetWriteWatermarks(100, 10); return nil },
			func(tr *transporttest.Transport) bool { h, l := tr.WriteWatermarks(); return h == 100 && l == 10 }},
		{"RegisterProducer", func(f transport.Transport) error { return f.RegisterProducer(producer{}, true) },
			func(tr *transporttest.Transport) bool { p, _ := tr.Producer(); return p == producer{} }},
		{"UnregisterProducer", func(f transport.Transport) error {
			_ = f.RegisterProducer(producer{}, true)
			f.UnregisterProducer()
			return nil
		}, func(tr *transporttest.Transport) bool { p, _ := tr.Producer(); return p == nil }},
		{"PauseProducing", func(f transport.Transport) error { f.PauseProducing(); return nil },
			func(tr *transporttest.Transport) bool { return tr.ReadPaused() }},
		{"ResumeProducing", func(f transport.Transport) error {
			f.PauseProducing()
			f.ResumeProducing()
			if f.ReadPaused() {
				return errors.New("ReadPaused after ResumeProducing")
			}
			return nil
		}, func(tr *transporttest.Transport) bool { return !tr.ReadPaused() }},
		{"StartTLS", func(f transport.Transport) error { return f.StartTLS(&tls.Config{}, true) },
			func(tr *transporttest.Transport) bool { return tr.TLSStarted() != nil }},
		{"LoseWriteConnection", func(f transport.Transport) error { f.LoseWriteConnection(); return nil },
			func(tr *transporttest.Transport) bool { return tr.WriteClosed() }},
		{"LoseConnection", func(f transport.Transport) error { f.LoseConnection(); return nil },
			func(tr *transporttest.Transport) bool { return tr.Disconnecting() }},
		{"StopProducing", func(f transport.Transport) error { f.StopProducing(); return nil },
			func(tr *transporttest.Transport) bool { return tr.Disconnecting() }},
		{"CloseWithError", func(f transport.Transport) error { f.CloseWithError(errTest); return nil },
			func(tr *transporttest.Transport) bool { return errors.Is(tr.CloseError(), errTest) }},
		{"AbortConnection", func(f transport.Transport) error { f.AbortConnection(); return nil },
			func(tr *transporttest.Transport) bool { return tr.Aborted() }},
		{"Disconnecting", func(f transport.Transport) error {
			if f.Disconnecting() || !f.Connected() {
				return errors.New("a new connection reads as closing")
			}
			f.LoseConnection()
			if !f.Disconnecting() {
				return errors.New("Disconnecting false after LoseConnection")
			}
			return nil
		}, func(tr *transporttest.Transport) bool { return true }},
		{"addresses and loop", func(f transport.Transport) error {
			if f.RemoteAddr().String() != "192.0.2.1:4000" || f.LocalAddr().String() != "192.0.2.2:80" {
				return errors.New("addresses not the real transport's: " + f.RemoteAddr().String() + " " + f.LocalAddr().String())
			}
			if f.Loop() == nil {
				return errors.New("no loop")
			}
			return nil
		}, func(tr *transporttest.Transport) bool { return true }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			tr := transporttest.New()
			tr.SetRemoteAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000})
			tr.SetLocalAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 80})
			f := &forwarder{}
			protocol.MakeConnection(f, tr)
			if err := s.call(f); err != nil {
				t.Fatal(err)
			}
			if !s.check(tr) {
				t.Fatalf("%s did not reach the real transport", s.name)
			}
		})
	}
}

var errTest = errors.New("test fault")
