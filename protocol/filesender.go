package protocol

import (
	"io"
	"sync"

	"github.com/whirl-go/whirl/transport"
)

// FileSenderChunk is the size of the pieces FileSender writes.
const FileSenderChunk = 16 << 10

// FileSender streams an io.Reader (a file, usually) to a transport as a pull
// producer: Twisted's basic.FileSender. It writes one 16 KiB piece each time
// the transport's output buffer empties, so memory stays flat whatever the
// size of the file and the speed of the peer.
//
// Reads run on the connection's loop: fine for regular files, which do not
// block for long; wrap a network or pipe reader with DeferToGoroutine instead.
type FileSender struct {
	mu       sync.Mutex
	r        io.Reader
	consumer transport.Transport
	done     func(error)
	buf      []byte
	sent     int64
}

// BeginFileTransfer starts sending r to consumer and calls done once, on the
// connection's loop, with nil when r is exhausted (and everything written), or
// with the read or write error that stopped it (transport.ErrConnectionLost
// style errors when the connection went away). It registers the sender as
// consumer's pull producer and unregisters it at the end. If it returns an
// error (the connection is closed, or has a producer already), nothing was
// started and done is not called. Any goroutine.
func (s *FileSender) BeginFileTransfer(r io.Reader, consumer transport.Transport, done func(error)) error {
	s.mu.Lock()
	if s.consumer != nil {
		s.mu.Unlock()
		return ErrFileSenderBusy
	}
	s.r, s.consumer, s.done, s.sent = r, consumer, done, 0
	if s.buf == nil {
		s.buf = make([]byte, FileSenderChunk)
	}
	s.mu.Unlock()
	if err := consumer.RegisterProducer(s, false); err != nil {
		s.mu.Lock()
		s.r, s.consumer, s.done = nil, nil, nil
		s.mu.Unlock()
		return err
	}
	return nil
}

// Sent returns the number of bytes written so far. Any goroutine.
func (s *FileSender) Sent() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// ResumeProducing writes the next piece. The consumer's loop goroutine.
func (s *FileSender) ResumeProducing() {
	s.mu.Lock()
	r, c := s.r, s.consumer
	s.mu.Unlock()
	if c == nil {
		return
	}
	n, err := io.ReadFull(r, s.buf)
	if n > 0 {
		if _, werr := c.Write(s.buf[:n]); werr != nil {
			s.finish(werr, true)
			return
		}
		s.mu.Lock()
		s.sent += int64(n)
		s.mu.Unlock()
	}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		s.finish(nil, true)
	case err != nil:
		s.finish(err, true)
	}
}

// PauseProducing does nothing: a pull producer is only asked, never paused.
// The consumer's loop goroutine.
func (s *FileSender) PauseProducing() {}

// StopProducing ends the transfer with transport.ErrConnectionDone: the
// consumer went away. The consumer's loop goroutine.
func (s *FileSender) StopProducing() { s.finish(transport.ErrConnectionDone, false) }

func (s *FileSender) finish(err error, unregister bool) {
	s.mu.Lock()
	c, done := s.consumer, s.done
	s.r, s.consumer, s.done = nil, nil, nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	if unregister {
		c.UnregisterProducer()
	}
	if done != nil {
		done(err)
	}
}
