package reactor_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEMFILEShedsWhenPersistent fills the descriptors of a server running
// under RLIMIT_NOFILE=48 (the child of TestEMFILE) and keeps them full: the
// clients waiting in the backlog are shed (closed at once) once the shortage
// has lasted a second, instead of hanging; the accept error is logged at most
// once a second; and after descriptors come back, new clients are served.
func TestEMFILEShedsWhenPersistent(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	var logs syncBuffer
	addr := emfileServer(t, &logs, "WHIRL_EMFILE_LOG=1")

	conns := dialMany(t, addr, 80)
	start := time.Now()
	// The last client waits in the backlog at first, then is shed: it sees
	// the connection end (EOF or a reset) without an echo.
	waiting := conns[len(conns)-1]
	waiting.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := waiting.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	n, err := io.ReadFull(waiting, make([]byte, 4))
	shedAfter := time.Since(start)
	if n != 0 || err == nil || isTimeout(err) {
		t.Fatalf("waiting client: read %d bytes, %v after %v; want the connection shed", n, err, shedAfter)
	}
	if shedAfter < 500*time.Millisecond || shedAfter > 6*time.Second {
		t.Errorf("waiting client shed after %v; want after about a second of shortage", shedAfter)
	}
	// Keep the shortage a while longer, then count the log lines.
	time.Sleep(2 * time.Second)
	elapsed := time.Since(start)
	lines := strings.Count(logs.String(), "accept failed")
	if lines == 0 || float64(lines) > elapsed.Seconds()+2 {
		t.Errorf("%d accept-failure log lines in %v; want at least one and at most one a second", lines, elapsed)
	}
	// Give descriptors back: new clients are served again.
	for _, c := range conns[10:] {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 4)
			if _, err = c.Write([]byte("pong")); err == nil {
				_, err = io.ReadFull(c, buf)
			}
			if err == nil && string(buf) == "pong" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new client served after descriptors came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
