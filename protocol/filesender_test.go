package protocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// doneRecorder records the calls of a BeginFileTransfer done function.
type doneRecorder struct{ errs []error }

func (d *doneRecorder) done(err error) { d.errs = append(d.errs, err) }

// payload returns n bytes that differ from one position to the next.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i ^ i>>8 ^ i>>16)
	}
	return b
}

func TestFileSenderRegistersPullProducer(t *testing.T) {
	tr := transporttest.New()
	var s protocol.FileSender
	var d doneRecorder
	if err := s.BeginFileTransfer(bytes.NewReader(payload(100)), tr, d.done); err != nil {
		t.Fatalf("BeginFileTransfer = %v, want nil", err)
	}
	p, streaming := tr.Producer()
	if p != transport.Producer(&s) || streaming {
		t.Errorf("producer %v (streaming %v), want the sender, not streaming", p, streaming)
	}
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("wrote %d bytes before the transport asked, want none", len(got))
	}
	if len(d.errs) != 0 {
		t.Errorf("done called %v before the transfer, want not called", d.errs)
	}
}

// TestFileSenderChunks drives the sender as the transport would, one
// ResumeProducing each time its output empties.
func TestFileSenderChunks(t *testing.T) {
	const chunk = protocol.FileSenderChunk
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"reader", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	sizes := []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 5, 4 * chunk}
	for _, rd := range readers {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%s/%d", rd.name, size), func(t *testing.T) {
				data := payload(size)
				tr := transporttest.New()
				var s protocol.FileSender
				var d doneRecorder
				if err := s.BeginFileTransfer(rd.wrap(bytes.NewReader(data)), tr, d.done); err != nil {
					t.Fatalf("BeginFileTransfer = %v, want nil", err)
				}
				// A full piece per call; the call that finds the end reports it.
				wantCalls := size/chunk + 1
				for call := 1; call <= wantCalls; call++ {
					if len(d.errs) != 0 {
						t.Fatalf("done called after %d calls, want %d calls", call-1, wantCalls)
					}
					tr.Clear()
					s.ResumeProducing()
					want := min(chunk, size-(call-1)*chunk)
					if got := len(tr.Value()); got != want {
						t.Fatalf("call %d wrote %d bytes, want %d", call, got, want)
					}
					if got, want := s.Sent(), int64(min(call*chunk, size)); got != want {
						t.Errorf("after call %d: Sent() = %d, want %d", call, got, want)
					}
				}
				if len(d.errs) != 1 || d.errs[0] != nil {
					t.Fatalf("done called with %v, want once with nil", d.errs)
				}
				if p, _ := tr.Producer(); p != nil {
					t.Errorf("producer %v still registered after the transfer, want none", p)
				}
				tr.Clear()
				s.ResumeProducing() // late: does nothing
				if got := tr.Value(); len(got) != 0 || len(d.errs) != 1 {
					t.Errorf("ResumeProducing after the end wrote %d bytes, done called %d times; want nothing", len(got), len(d.errs))
				}
			})
		}
	}
}

func TestFileSenderSendsEverythingInOrder(t *testing.T) {
	data := payload(5*protocol.FileSenderChunk + 1234)
	tr := transporttest.New()
	var s protocol.FileSender
	var d doneRecorder
	if err := s.BeginFileTransfer(iotest.HalfReader(bytes.NewReader(data)), tr, d.done); err != nil {
		t.Fatal(err)
	}
	for calls := 0; len(d.errs) == 0; calls++ {
		if calls > 100 {
			t.Fatal("transfer not done after 100 calls")
		}
		s.ResumeProducing()
	}
	if got := tr.Value(); !bytes.Equal(got, data) {
		t.Errorf("sent %d bytes differing from the %d of the file", len(got), len(data))
	}
	if got, want := s.Sent(), int64(len(data)); got != want {
		t.Errorf("Sent() = %d, want %d", got, want)
	}
}

func TestFileSenderStopProducing(t *testing.T) {
	tr := transporttest.New()
	var s protocol.FileSender
	var d doneRecorder
	if err := s.BeginFileTransfer(bytes.NewReader(payload(3*protocol.FileSenderChunk)), tr, d.done); err != nil {
		t.Fatal(err)
	}
	s.ResumeProducing()
	tr.LoseConnection()
	s.StopProducing() // the transport went away
	if len(d.errs) != 1 || !errors.Is(d.errs[0], transport.ErrConnectionDone) {
		t.Fatalf("done called with %v, want once with an error matching ErrConnectionDone", d.errs)
	}
	s.ResumeProducing()
	s.StopProducing()
	if len(d.errs) != 1 {
		t.Errorf("done called %d times, want once", len(d.errs))
	}
	if got, want := s.Sent(), int64(protocol.FileSenderChunk); got != want {
		t.Errorf("Sent() = %d, want %d", got, want)
	}
}

func TestFileSenderPauseDoesNothing(t *testing.T) {
	tr := transporttest.New()
	var s protocol.FileSender
	var d doneRecorder
	if err := s.BeginFileTransfer(bytes.NewReader(payload(10)), tr, d.done); err != nil {
		t.Fatal(err)
	}
	s.PauseProducing()
	if got := tr.Value(); len(got) != 0 || len(d.errs) != 0 {
		t.Errorf("PauseProducing wrote %d bytes, done %v; want nothing", len(got), d.errs)
	}
	s.ResumeProducing()
	if got := len(tr.Value()); got != 10 || len(d.errs) != 1 {
		t.Errorf("after PauseProducing, ResumeProducing wrote %d bytes, done %v; want the 10 bytes and done", got, d.errs)
	}
}

func TestFileSenderErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name      string
		reader    io.Reader
		closed    bool // abort the transport before the first piece
		wantErr   error
		wantBytes int
	}{
		{"read error", iotest.ErrReader(errDisk), false, errDisk, 0},
		{"read error after data", io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(errDisk)), false, errDisk, len("partial")},
		{"read timeout", iotest.TimeoutReader(bytes.NewReader(payload(3 * protocol.FileSenderChunk))), false, iotest.ErrTimeout, protocol.FileSenderChunk},
		{"write error", bytes.NewReader(payload(10)), true, transport.ErrClosed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			var s protocol.FileSender
			var d doneRecorder
			if err := s.BeginFileTransfer(tt.reader, tr, d.done); err != nil {
				t.Fatal(err)
			}
			if tt.closed {
				// Aborted: LoseConnection would wait for the registered
				// sender and keep taking its writes, as the reactor does.
				tr.AbortConnection()
			}
			for calls := 0; len(d.errs) == 0; calls++ {
				if calls > 10 {
					t.Fatal("transfer not over after 10 calls")
				}
				s.ResumeProducing()
			}
			if len(d.errs) != 1 || !errors.Is(d.errs[0], tt.wantErr) {
				t.Fatalf("done called with %v, want once with %v", d.errs, tt.wantErr)
			}
			if got := len(tr.Value()); got != tt.wantBytes {
				t.Errorf("wrote %d bytes, want %d", got, tt.wantBytes)
			}
			if p, _ := tr.Producer(); p != nil {
				t.Errorf("producer %v still registered after the error, want none", p)
			}
		})
	}
}

func TestFileSenderBusy(t *testing.T) {
	tr := transporttest.New()
	var s protocol.FileSender
	var first, second doneRecorder
	if err := s.BeginFileTransfer(strings.NewReader("first"), tr, first.done); err != nil {
		t.Fatal(err)
	}
	other := transporttest.New()
	if err := s.BeginFileTransfer(strings.NewReader("second"), other, second.done); !errors.Is(err, protocol.ErrFileSenderBusy) {
		t.Fatalf("second BeginFileTransfer = %v, want ErrFileSenderBusy", err)
	}
	if p, _ := other.Producer(); p != nil || len(second.errs) != 0 {
		t.Errorf("refused transfer registered %v, done %v; want nothing", p, second.errs)
	}
	s.ResumeProducing()
	if got, want := string(tr.Value()), "first"; got != want || len(first.errs) != 1 {
		t.Fatalf("first transfer wrote %q, done %v; want %q and done", got, first.errs, want)
	}
	// Once done, the sender takes another transfer; Sent starts again.
	if err := s.BeginFileTransfer(strings.NewReader("again"), other, second.done); err != nil {
		t.Fatalf("BeginFileTransfer after the first ended = %v, want nil", err)
	}
	if got := s.Sent(); got != 0 {
		t.Errorf("Sent() = %d at the start of a new transfer, want 0", got)
	}
	s.ResumeProducing()
	if got, want := string(other.Value()), "again"; got != want || len(second.errs) != 1 || second.errs[0] != nil {
		t.Errorf("second transfer wrote %q, done %v; want %q and done with nil", got, second.errs, want)
	}
}

// TestFileSenderChainsFromDone starts the next transfer from done, as a
// protocol sending several files in a row does.
func TestFileSenderChainsFromDone(t *testing.T) {
	tr := transporttest.New()
	var s protocol.FileSender
	files := []string{"one,", "two,", "three"}
	var errs []error
	var next func(err error)
	next = func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
		if len(files) == 0 {
			return
		}
		f := files[0]
		files = files[1:]
		if err := s.BeginFileTransfer(strings.NewReader(f), tr, next); err != nil {
			errs = append(errs, err)
		}
	}
	next(nil)
	for calls := 0; len(files) > 0 || s.Sent() == 0; calls++ {
		if calls > 10 {
			t.Fatal("transfers not over after 10 calls")
		}
		s.ResumeProducing()
	}
	if len(errs) != 0 {
		t.Fatalf("errors %v, want none", errs)
	}
	if got, want := string(tr.Value()), "one,two,three"; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	if p, _ := tr.Producer(); p != nil {
		t.Errorf("producer %v still registered after the last file, want none", p)
	}
}

func TestFileSenderRegisterFails(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*transporttest.Transport)
		wantErr error
	}{
		{"closed transport", func(tr *transporttest.Transport) { tr.LoseConnection() }, transport.ErrClosed},
		{"producer registered", func(tr *transporttest.Transport) { _ = tr.RegisterProducer(tr, true) }, transport.ErrProducerRegistered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			tt.setup(tr)
			var s protocol.FileSender
			var d doneRecorder
			err := s.BeginFileTransfer(strings.NewReader("data"), tr, d.done)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("BeginFileTransfer = %v, want %v", err, tt.wantErr)
			}
			// Nothing started: done is not called (it runs on the loop only).
			if len(d.errs) != 0 {
				t.Errorf("done called with %v, want not called", d.errs)
			}
			// The sender is free for another transfer.
			if err := s.BeginFileTransfer(strings.NewReader("x"), transporttest.New(), nil); err != nil {
				t.Errorf("BeginFileTransfer after a failed one = %v, want nil", err)
			}
		})
	}
}

func ExampleFileSender() {
	tr := transporttest.New()
	var s protocol.FileSender
	file := strings.NewReader(strings.Repeat("x", protocol.FileSenderChunk+100))
	_ = s.BeginFileTransfer(file, tr, func(err error) { fmt.Println("done:", err) })
	// The transport asks for a piece each time its output is empty.
	for i := 1; i <= 2; i++ {
		s.ResumeProducing()
		fmt.Println("call", i, "sent", s.Sent())
	}
	// Output:
	// call 1 sent 16384
	// done: <nil>
	// call 2 sent 16484
}
