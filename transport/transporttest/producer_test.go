package transporttest_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// nopProducer is a producer that is not a transport.
type nopProducer struct{}

func (nopProducer) PauseProducing()  {}
func (nopProducer) ResumeProducing() {}
func (nopProducer) StopProducing()   {}

// proxy stands in for another producer, as a policy's wrapper does.
type proxy struct{ transport.Producer }

func (p proxy) WrappedProducer() transport.Producer { return p.Producer }

var _ transport.ProducerWrapper = proxy{}

func TestLoseConnectionWithProducer(t *testing.T) {
	closedPeer := func(*transporttest.Transport) transport.Producer {
		peer := transporttest.New()
		peer.LoseConnection()
		return peer
	}
	tests := []struct {
		name     string
		producer func(tr *transporttest.Transport) transport.Producer
		holds    bool
	}{
		{"producer", func(*transporttest.Transport) transport.Producer { return nopProducer{} }, true},
		{"connected peer", func(*transporttest.Transport) transport.Producer { return transporttest.New() }, true},
		{"closed peer", closedPeer, false},
		{"itself", func(tr *transporttest.Transport) transport.Producer { return tr }, false},
		{"proxy of itself", func(tr *transporttest.Transport) transport.Producer { return proxy{tr} }, false},
		{"proxy of a proxy of itself", func(tr *transporttest.Transport) transport.Producer { return proxy{proxy{tr}} }, false},
		{"proxy of a producer", func(*transporttest.Transport) transport.Producer { return proxy{nopProducer{}} }, true},
		{"proxy of a closed peer", func(tr *transporttest.Transport) transport.Producer { return proxy{closedPeer(tr)} }, false},
		{"proxy of nothing", func(*transporttest.Transport) transport.Producer { return proxy{} }, false},
	}
	for _, tt := range tests {
		for _, streaming := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/streaming=%v", tt.name, streaming), func(t *testing.T) {
				tr := transporttest.New()
				if err := tr.RegisterProducer(tt.producer(tr), streaming); err != nil {
					t.Fatalf("RegisterProducer: %v", err)
				}
				_, _ = tr.Write([]byte("before "))
				tr.LoseConnection()
				if tr.Connected() || !tr.Disconnecting() {
					t.Errorf("after LoseConnection: Connected, Disconnecting = %v, %v; want false, true", tr.Connected(), tr.Disconnecting())
				}
				if got, want := tr.Disconnected(), !tt.holds; got != want {
					t.Fatalf("Disconnected() = %v right after LoseConnection, want %v", got, want)
				}
				n, err := tr.Write([]byte("during "))
				if tt.holds && (n != 7 || err != nil) {
					t.Errorf("Write while the producer holds the close = %d, %v; want 7, nil", n, err)
				}
				if !tt.holds && (n != 0 || !errors.Is(err, transport.ErrClosed)) {
					t.Errorf("Write after close = %d, %v; want 0, ErrClosed", n, err)
				}
				tr.LoseConnection() // checks the producer again: no change
				if got, want := tr.Disconnected(), !tt.holds; got != want {
					t.Errorf("Disconnected() = %v after a second LoseConnection, want %v", got, want)
				}

				tr.UnregisterProducer()
				if !tr.Disconnected() || tr.Connected() || !tr.Disconnecting() {
					t.Errorf("after UnregisterProducer: Connected, Disconnecting, Disconnected = %v, %v, %v; want false, true, true",
						tr.Connected(), tr.Disconnecting(), tr.Disconnected())
				}
				if n, err := tr.Write([]byte("after")); n != 0 || !errors.Is(err, transport.ErrClosed) {
					t.Errorf("Write after close = %d, %v; want 0, ErrClosed", n, err)
				}
				want := "before "
				if tt.holds {
					want += "during "
				}
				if got := string(tr.Value()); got != want {
					t.Errorf("Value() = %q, want %q", got, want)
				}
				if tr.Aborted() {
					t.Error("Aborted() = true after LoseConnection")
				}
			})
		}
	}
}

// TestLoseConnectionHeldUp checks what a transport allows while a producer
// holds its LoseConnection up.
func TestLoseConnectionHeldUp(t *testing.T) {
	tr := transporttest.New()
	_ = tr.RegisterProducer(nopProducer{}, true)
	tr.LoseConnection()
	if err := tr.RegisterProducer(nopProducer{}, true); !errors.Is(err, transport.ErrProducerRegistered) {
		t.Errorf("RegisterProducer while held up = %v, want ErrProducerRegistered", err)
	}
	if err := tr.WriteSequence([][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Errorf("WriteSequence while held up = %v, want nil", err)
	}
	if err := tr.SetTCPNoDelay(true); err != nil {
		t.Errorf("SetTCPNoDelay while held up = %v, want nil", err)
	}
	if p, _ := tr.Producer(); p != (nopProducer{}) {
		t.Errorf("Producer() = %v while held up, want the producer", p)
	}
	tr.UnregisterProducer()
	if err := tr.RegisterProducer(nopProducer{}, true); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("RegisterProducer after close = %v, want ErrClosed", err)
	}
	if err := tr.SetTCPNoDelay(true); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("SetTCPNoDelay after close = %v, want ErrClosed", err)
	}
	if got := string(tr.Value()); got != "ab" {
		t.Errorf("Value() = %q, want %q", got, "ab")
	}
}

func TestAbortConnectionWithProducer(t *testing.T) {
	for _, name := range []string{"before LoseConnection", "while LoseConnection waits"} {
		t.Run(name, func(t *testing.T) {
			tr := transporttest.New()
			_ = tr.RegisterProducer(nopProducer{}, true)
			if name != "before LoseConnection" {
				tr.LoseConnection()
			}
			tr.AbortConnection()
			if !tr.Disconnected() || !tr.Aborted() {
				t.Errorf("Disconnected, Aborted = %v, %v; want true, true", tr.Disconnected(), tr.Aborted())
			}
			if _, err := tr.Write([]byte("x")); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after abort = %v, want ErrClosed", err)
			}
		})
	}
}

// TestLoseConnectionRelay checks a relay: the producer is the other
// connection, whose close releases the LoseConnection when this one looks
// again (StopProducing or LoseConnection).
func TestLoseConnectionRelay(t *testing.T) {
	for _, again := range []string{"LoseConnection", "StopProducing"} {
		t.Run(again, func(t *testing.T) {
			a, b := transporttest.New(), transporttest.New()
			_ = a.RegisterProducer(b, true)
			_ = b.RegisterProducer(a, true)
			a.LoseConnection()
			if a.Disconnected() {
				t.Fatal("a closed while b, its producer, is connected")
			}
			b.LoseConnection() // a is no longer connected: b does not wait
			if !b.Disconnected() {
				t.Fatal("b waits for a, which is closing")
			}
			if a.Disconnected() {
				t.Fatal("a closed before it looked at its producer again")
			}
			if again == "LoseConnection" {
				a.LoseConnection()
			} else {
				a.StopProducing()
			}
			if !a.Disconnected() {
				t.Errorf("a still open after %s with its producer closed", again)
			}
		})
	}
}

// TestProducerWritesWhileClosing is a pull producer (a file sender, say) that
// goes on writing its input in pieces after LoseConnection and unregisters
// after the last piece, which closes the transport.
func TestProducerWritesWhileClosing(t *testing.T) {
	input := []byte("every byte of the file\r\n")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			tr := transporttest.New()
			s := &sender{tr: tr, pieces: transporttest.Chunks(input, size)}
			if err := tr.RegisterProducer(s, false); err != nil {
				t.Fatal(err)
			}
			s.ResumeProducing() // the first piece, as a real transport asks at once
			tr.LoseConnection()
			for !tr.Disconnected() {
				if tr.Connected() || !tr.Disconnecting() {
					t.Fatal("not disconnecting while the producer holds the close")
				}
				s.ResumeProducing() // the output drained: the next piece
			}
			if s.err != nil {
				t.Fatalf("a write failed: %v", s.err)
			}
			if got := string(tr.Value()); got != string(input) {
				t.Errorf("Value() = %q, want %q", got, input)
			}
			if _, err := tr.Write([]byte("late")); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write after the producer went = %v, want ErrClosed", err)
			}
		})
	}
}

// sender writes one piece per ResumeProducing and unregisters after the
// last.
type sender struct {
	tr     *transporttest.Transport
	pieces [][]byte
	err    error
}

func (s *sender) PauseProducing() {}
func (s *sender) StopProducing()  {}
func (s *sender) ResumeProducing() {
	if len(s.pieces) == 0 {
		return
	}
	if _, err := s.tr.Write(s.pieces[0]); err != nil && s.err == nil {
		s.err = err
	}
	s.pieces = s.pieces[1:]
	if len(s.pieces) == 0 {
		s.tr.UnregisterProducer()
	}
}

func TestLoseWriteConnection(t *testing.T) {
	input := []byte("request\r\n")
	for _, size := range transporttest.ChunkSizes {
		t.Run(fmt.Sprint("chunk", size), func(t *testing.T) {
			tr := transporttest.New()
			if tr.WriteClosed() {
				t.Fatal("WriteClosed() = true on a new transport")
			}
			for _, piece := range transporttest.Chunks(input, size) {
				if _, err := tr.Write(piece); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			tr.LoseWriteConnection()
			if !tr.WriteClosed() {
				t.Error("WriteClosed() = false after LoseWriteConnection")
			}
			if !tr.Connected() || tr.Disconnecting() || tr.Disconnected() || tr.Aborted() {
				t.Errorf("Connected, Disconnecting, Disconnected, Aborted = %v, %v, %v, %v; want true, false, false, false",
					tr.Connected(), tr.Disconnecting(), tr.Disconnected(), tr.Aborted())
			}
			for _, piece := range transporttest.Chunks(input, size) {
				if n, err := tr.Write(piece); n != 0 || !errors.Is(err, transport.ErrClosed) {
					t.Fatalf("Write after LoseWriteConnection = %d, %v; want 0, ErrClosed", n, err)
				}
			}
			if err := tr.WriteSequence([][]byte{input}); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("WriteSequence after LoseWriteConnection = %v, want ErrClosed", err)
			}
			if err := tr.RegisterProducer(nopProducer{}, true); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("RegisterProducer after LoseWriteConnection = %v, want ErrClosed", err)
			}
			if err := tr.SetTCPNoDelay(true); err != nil {
				t.Errorf("SetTCPNoDelay after LoseWriteConnection = %v, want nil (the socket is open)", err)
			}
			tr.LoseWriteConnection() // again: nothing changes
			if got := string(tr.Value()); got != string(input) {
				t.Errorf("Value() = %q, want %q", got, input)
			}
			tr.LoseConnection()
			if !tr.Disconnected() || !tr.WriteClosed() {
				t.Errorf("after LoseConnection: Disconnected, WriteClosed = %v, %v; want true, true", tr.Disconnected(), tr.WriteClosed())
			}
		})
	}
}

// TestLoseWriteConnectionWithProducer checks that a half-close with a
// producer registered refuses writes at once, and that a later
// LoseConnection still waits for the producer.
func TestLoseWriteConnectionWithProducer(t *testing.T) {
	tr := transporttest.New()
	_ = tr.RegisterProducer(nopProducer{}, true)
	tr.LoseWriteConnection()
	if _, err := tr.Write([]byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Write after LoseWriteConnection = %v, want ErrClosed", err)
	}
	tr.LoseConnection()
	if tr.Disconnected() {
		t.Error("closed while the producer holds the close")
	}
	tr.UnregisterProducer()
	if !tr.Disconnected() {
		t.Error("still open after the producer unregistered")
	}
}

// TestConcurrentCloseWithProducer checks, under -race, that LoseConnection,
// UnregisterProducer and writes from several goroutines end with a closed
// transport, whichever comes first, and that the transport as its own
// producer does not deadlock.
func TestConcurrentCloseWithProducer(t *testing.T) {
	for range 50 {
		tr := transporttest.New()
		_ = tr.RegisterProducer(proxy{tr}, true)
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 20 {
				if _, err := tr.Write([]byte("x")); err != nil && !errors.Is(err, transport.ErrClosed) {
					t.Errorf("Write() = %v", err)
				}
			}
		})
		wg.Go(tr.LoseConnection)
		wg.Go(tr.StopProducing)
		wg.Go(tr.UnregisterProducer)
		wg.Go(func() { _ = tr.RegisterProducer(nopProducer{}, false) })
		wg.Wait()
		tr.UnregisterProducer() // whichever producer is left
		if !tr.Disconnected() {
			t.Fatal("still open after LoseConnection and UnregisterProducer")
		}
	}
}
