package transporttest_test

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/whirl-go/whirl/transport"
	"github.com/whirl-go/whirl/transport/transporttest"
)

func TestNew(t *testing.T) {
	tr := transporttest.New()
	if got, want := tr.LocalAddr().String(), "127.0.0.1:8000"; got != want {
		t.Errorf("LocalAddr() = %s, want %s", got, want)
	}
	if got, want := tr.RemoteAddr().String(), "192.0.2.1:12345"; got != want {
		t.Errorf("RemoteAddr() = %s, want %s", got, want)
	}
	if _, ok := tr.RemoteAddr().(*net.TCPAddr); !ok {
		t.Errorf("RemoteAddr() is a %T, want *net.TCPAddr", tr.RemoteAddr())
	}
	if !tr.Connected() || tr.Disconnecting() || tr.Disconnected() || tr.Aborted() {
		t.Errorf("Connected, Disconnecting, Disconnected, Aborted = %v, %v, %v, %v; want true, false, false, false",
			tr.Connected(), tr.Disconnecting(), tr.Disconnected(), tr.Aborted())
	}
	if got := tr.Value(); got == nil || len(got) != 0 {
		t.Errorf("Value() = %#v, want empty and non-nil", got)
	}
	if got, want := tr.Clock().Now(), transporttest.Epoch; !got.Equal(want) {
		t.Errorf("Clock().Now() = %v, want %v", got, want)
	}
	l, ok := tr.Loop().(*transporttest.Loop)
	if !ok {
		t.Fatalf("Loop() is a %T, want *transporttest.Loop", tr.Loop())
	}
	if l.Clock() != tr.Clock() {
		t.Error("Clock() is not the clock of Loop()")
	}
}

func TestNewWithLoop(t *testing.T) {
	l := transporttest.NewLoop(transporttest.NewClock())
	a, b := transporttest.NewWithLoop(l), transporttest.NewWithLoop(l)
	if a.Loop() != transport.Loop(l) || b.Loop() != transport.Loop(l) {
		t.Error("Loop() is not the loop given to NewWithLoop")
	}
	var got []string
	a.Loop().CallLater(2*time.Second, func() { got = append(got, "a") })
	b.Loop().CallLater(time.Second, func() { got = append(got, "b") })
	l.Clock().Advance(2 * time.Second)
	if len(got) != 2 || got[0] != "b" || got[1] != "a" {
		t.Errorf("ran %q, want [b a]", got)
	}
}

func TestSetAddr(t *testing.T) {
	tr := transporttest.New()
	local := &net.UnixAddr{Name: "/tmp/whirl.sock", Net: "unix"}
	remote := &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}
	tr.SetLocalAddr(local)
	tr.SetRemoteAddr(remote)
	tr.LoseConnection()
	// Addresses stay valid after close.
	if got := tr.LocalAddr(); got != net.Addr(local) {
		t.Errorf("LocalAddr() = %v, want %v", got, local)
	}
	if got := tr.RemoteAddr(); got != net.Addr(remote) {
		t.Errorf("RemoteAddr() = %v, want %v", got, remote)
	}
}

func TestWriteValueClear(t *testing.T) {
	tr := transporttest.New()
	p := []byte("hello")
	n, err := tr.Write(p)
	if n != 5 || err != nil {
		t.Fatalf("Write() = %d, %v; want 5, nil", n, err)
	}
	p[0] = 'J' // Write copied p
	if err := tr.WriteSequence([][]byte{[]byte(", "), nil, []byte("world")}); err != nil {
		t.Fatalf("WriteSequence() = %v, want nil", err)
	}
	if n, err := tr.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v; want 0, nil", n, err)
	}
	got := tr.Value()
	if want := "hello, world"; string(got) != want {
		t.Errorf("Value() = %q, want %q", got, want)
	}
	got[0] = 'J' // Value returned a copy
	if got, want := string(tr.Value()), "hello, world"; got != want {
		t.Errorf("Value() after changing a returned copy = %q, want %q", got, want)
	}

	tr.Clear()
	if got := tr.Value(); len(got) != 0 {
		t.Errorf("Value() after Clear = %q, want empty", got)
	}
	_, _ = tr.Write([]byte("again"))
	if got, want := string(tr.Value()), "again"; got != want {
		t.Errorf("Value() = %q, want %q", got, want)
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name        string
		close       func(*transporttest.Transport)
		wantAborted bool
	}{
		{"LoseConnection", (*transporttest.Transport).LoseConnection, false},
		{"LoseConnection twice", func(tr *transporttest.Transport) { tr.LoseConnection(); tr.LoseConnection() }, false},
		{"AbortConnection", (*transporttest.Transport).AbortConnection, true},
		{"LoseConnection then AbortConnection", func(tr *transporttest.Transport) { tr.LoseConnection(); tr.AbortConnection() }, true},
		{"AbortConnection then LoseConnection", func(tr *transporttest.Transport) { tr.AbortConnection(); tr.LoseConnection() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			_, _ = tr.Write([]byte("before"))
			tt.close(tr)

			if tr.Connected() {
				t.Error("Connected() = true, want false")
			}
			if !tr.Disconnecting() {
				t.Error("Disconnecting() = false, want true")
			}
			if !tr.Disconnected() {
				t.Error("Disconnected() = false, want true")
			}
			if got := tr.Aborted(); got != tt.wantAborted {
				t.Errorf("Aborted() = %v, want %v", got, tt.wantAborted)
			}
			if n, err := tr.Write([]byte("after")); n != 0 || !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Write() = %d, %v; want 0, %v", n, err, transport.ErrClosed)
			}
			if err := tr.WriteSequence([][]byte{[]byte("after")}); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("WriteSequence() = %v, want %v", err, transport.ErrClosed)
			}
			if err := tr.SetTCPNoDelay(true); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("SetTCPNoDelay() = %v, want %v", err, transport.ErrClosed)
			}
			if err := tr.SetTCPKeepAlive(time.Second, time.Second, 3); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("SetTCPKeepAlive() = %v, want %v", err, transport.ErrClosed)
			}
			if got, want := string(tr.Value()), "before"; got != want {
				t.Errorf("Value() = %q, want %q", got, want)
			}
		})
	}
}

func TestSocketOptions(t *testing.T) {
	tr := transporttest.New()
	if tr.NoDelay() {
		t.Error("NoDelay() = true before SetTCPNoDelay")
	}
	if idle, interval, count := tr.KeepAlive(); idle != 0 || interval != 0 || count != 0 {
		t.Errorf("KeepAlive() = %v, %v, %d before SetTCPKeepAlive; want zeros", idle, interval, count)
	}
	if err := tr.SetTCPNoDelay(true); err != nil {
		t.Fatalf("SetTCPNoDelay(true) = %v", err)
	}
	if !tr.NoDelay() {
		t.Error("NoDelay() = false after SetTCPNoDelay(true)")
	}
	if err := tr.SetTCPKeepAlive(30*time.Second, 5*time.Second, 4); err != nil {
		t.Fatalf("SetTCPKeepAlive() = %v", err)
	}
	if idle, interval, count := tr.KeepAlive(); idle != 30*time.Second || interval != 5*time.Second || count != 4 {
		t.Errorf("KeepAlive() = %v, %v, %d; want 30s, 5s, 4", idle, interval, count)
	}
	_ = tr.SetTCPNoDelay(false)
	if tr.NoDelay() {
		t.Error("NoDelay() = true after SetTCPNoDelay(false)")
	}
}

// TestConcurrentWrites checks, under -race, that writes from several
// goroutines are all recorded and never interleave within one call.
func TestConcurrentWrites(t *testing.T) {
	const goroutines, writes, size = 8, 200, 16
	tr := transporttest.New()
	var wg sync.WaitGroup
	for g := range goroutines {
		msg := bytes.Repeat([]byte{'a' + byte(g)}, size)
		wg.Go(func() {
			for i := range writes {
				var err error
				if i%2 == 0 {
					_, err = tr.Write(msg)
				} else {
					err = tr.WriteSequence([][]byte{msg[:size/2], msg[size/2:]})
				}
				if err != nil {
					t.Errorf("write: %v", err)
					return
				}
				_ = tr.Value()
				_ = tr.Connected()
				_ = tr.RemoteAddr()
			}
		})
	}
	wg.Wait()

	got := tr.Value()
	if want := goroutines * writes * size; len(got) != want {
		t.Fatalf("len(Value()) = %d, want %d", len(got), want)
	}
	counts := make(map[byte]int)
	for off := 0; off < len(got); off += size {
		block := got[off : off+size]
		if !bytes.Equal(block, bytes.Repeat(block[:1], size)) {
			t.Fatalf("writes interleaved at offset %d: %q", off, block)
		}
		counts[block[0]]++
	}
	for g := range goroutines {
		if got := counts['a'+byte(g)]; got != writes {
			t.Errorf("goroutine %d: %d writes recorded, want %d", g, got, writes)
		}
	}
}

func TestConcurrentClose(t *testing.T) {
	tr := transporttest.New()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if _, err := tr.Write([]byte("x")); err != nil && !errors.Is(err, transport.ErrClosed) {
					t.Errorf("Write() = %v", err)
				}
			}
		})
	}
	wg.Go(tr.LoseConnection)
	wg.Go(tr.AbortConnection)
	wg.Go(func() { _ = tr.SetTCPNoDelay(true) })
	wg.Go(func() { tr.Clock().Advance(0) })
	wg.Wait()
	if tr.Connected() {
		t.Error("Connected() = true after close")
	}
}

func TestNewAddressesNotShared(t *testing.T) {
	a, b := transporttest.New(), transporttest.New()
	a.LocalAddr().(*net.TCPAddr).Port = 1
	a.RemoteAddr().(*net.TCPAddr).Port = 2
	if got, want := b.LocalAddr().String(), "127.0.0.1:8000"; got != want {
		t.Errorf("other transport's LocalAddr() = %s, want %s", got, want)
	}
	if got, want := b.RemoteAddr().String(), "192.0.2.1:12345"; got != want {
		t.Errorf("other transport's RemoteAddr() = %s, want %s", got, want)
	}
}

func TestCloseWithError(t *testing.T) {
	bad := errors.New("bad frame")
	tr := transporttest.New()
	tr.Write([]byte("ERR\r\n"))
	tr.CloseWithError(bad)
	tr.CloseWithError(errors.New("ignored"))
	if !tr.Disconnected() || tr.Aborted() {
		t.Fatalf("disconnected %v aborted %v: want a clean close", tr.Disconnected(), tr.Aborted())
	}
	if tr.CloseError() != bad {
		t.Fatalf("CloseError %v, want %v", tr.CloseError(), bad)
	}
	if string(tr.Value()) != "ERR\r\n" {
		t.Fatalf("output %q", tr.Value())
	}
	nilClose := transporttest.New()
	nilClose.CloseWithError(nil)
	if !nilClose.Disconnected() || nilClose.CloseError() != nil {
		t.Fatal("CloseWithError(nil) should be LoseConnection")
	}
}
