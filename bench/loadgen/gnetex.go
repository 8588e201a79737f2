package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Framing describes a framed echo protocol for RunFramed: what a connection
// does before its first message, and the header before each message sent
// and each echo received. The payload of every message is an echo message
// of Config.Size bytes (see message.go), checked byte for byte.
type Framing struct {
	// Name is the Result's Mode.
	Name string
	// Handshake runs on a new connection before any message; it must not
	// read past what the server sends before its first echo.
	Handshake func(c net.Conn, addr string) error
	// SendHeader and RecvHeader return the header of a message of size
	// bytes as the client sends it and as the echo comes back.
	SendHeader, RecvHeader func(size int) []byte
}

// SimpleProtoFraming is examples/simpleproto's protocol: a greeting line,
// then packets of magic 1314, version 1, a uint32 length and the body,
// echoed as they are.
var SimpleProtoFraming = Framing{
	Name: "simpleproto",
	Handshake: func(c net.Conn, _ string) error {
		const greeting = "sweetness\r\n"
		got := make([]byte, len(greeting))
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("loadgen: greeting: %w", err)
		}
		if string(got) != greeting {
			return fmt.Errorf("%w: greeting %q", ErrWrongAnswer, got)
		}
		return nil
	},
	SendHeader: simpleHeader,
	RecvHeader: simpleHeader,
}

func simpleHeader(size int) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h, 1314)
	binary.BigEndian.PutUint16(h[2:], 1)
	binary.BigEndian.PutUint32(h[4:], uint32(size))
	return h
}

// WebSocketFraming is RFC 6455: an opening handshake, then binary frames,
// masked (with a zero key, which leaves the payload as it is; the server
// unmasks all the same) from the client, unmasked from the server.
var WebSocketFraming = Framing{
	Name:      "websocket",
	Handshake: wsHandshake,
	SendHeader: func(size int) []byte {
		return append(wsLength([]byte{0x82}, size, 0x80), 0, 0, 0, 0)
	},
	RecvHeader: func(size int) []byte { return wsLength([]byte{0x82}, size, 0) },
}

func wsLength(b []byte, n int, mask byte) []byte {
	switch {
	case n < 126:
		return append(b, mask|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, mask|126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
}

// wsHandshake sends the opening handshake and checks the 101 answer and
// its Sec-WebSocket-Accept, reading byte by byte so as not to read past it.
func wsHandshake(c net.Conn, addr string) error {
	key := base64.StdEncoding.EncodeToString([]byte(addr + "-whirl-bench")[:16])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	var resp []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
		if len(resp) > 4096 {
			return fmt.Errorf("%w: handshake answer over 4 KiB", ErrWrongAnswer)
		}
		if _, err := io.ReadFull(c, one); err != nil {
			return fmt.Errorf("loadgen: handshake: %w", err)
		}
		resp = append(resp, one[0])
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	accept := base64.StdEncoding.EncodeToString(sum[:])
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101 ") || !strings.Contains(string(resp), accept) {
		return fmt.Errorf("%w: handshake answered %q", ErrWrongAnswer, resp)
	}
	return nil
}

// RunFramed is Run for a framed echo protocol: every connection does the
// handshake, then keeps cfg.Depth messages in flight, each a header and an
// echo message of cfg.Size bytes, and checks every echo (header and
// payload) byte for byte. Messages, latencies and the phases are as in Run.
// Any goroutine.
func RunFramed(ctx context.Context, cfg Config, fr Framing) (Result, error) {
	if err := cfg.check(true); err != nil {
		return Result{}, err
	}
	conns, err := dialAll(ctx, &cfg, cfg.Conns)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	g := &run{cfg: cfg, epoch: time.Now()}
	workers := make([]*framedConn, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		w := &framedConn{id: i, c: c, size: cfg.Size, depth: cfg.depth(), pat: pattern(i, cfg.Size),
			shdr: fr.SendHeader(cfg.Size), rhdr: fr.RecvHeader(cfg.Size), sent: make([]time.Duration, cfg.depth())}
		w.out = make([]byte, w.depth*(len(w.shdr)+w.size))
		w.in = make([]byte, max(w.depth*(len(w.rhdr)+w.size), 4096))
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetDeadline(time.Now().Add(cfg.dialTimeout()))
			if err := fr.Handshake(c, cfg.Addr); err != nil {
				g.failed(fmt.Errorf("loadgen: connection %d: %w", i, err))
				return
			}
			_ = c.SetDeadline(time.Time{})
			w.run(g)
		}()
	}
	elapsed, werr := g.window(ctx)
	g.drainConns(ctx, &wg, conns)
	res := Result{Mode: fr.Name, Client: ClientGoroutine, Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.depth(), Elapsed: elapsed}
	tallies := make([]*tally, len(workers))
	for i, w := range workers {
		tallies[i] = &w.tally
	}
	res.collect(tallies, g)
	return res, werr
}

// framedConn is one connection of RunFramed, owned by its goroutine.
type framedConn struct {
	id          int
	c           net.Conn
	size, depth int
	pat         []byte
	shdr, rhdr  []byte
	out, in     []byte
	sent        []time.Duration
	next, recv  uint64
	tally
}

func (w *framedConn) send(g *run, k int) error {
	now := g.since()
	m := len(w.shdr) + w.size
	for i := range k {
		msg := w.out[i*m : (i+1)*m]
		copy(msg, w.shdr)
		fill(msg[len(w.shdr):], w.pat, w.next)
		w.sent[w.next%uint64(w.depth)] = now
		w.next++
	}
	_, err := w.c.Write(w.out[:k*m])
	return err
}

func (w *framedConn) run(g *run) {
	if err := w.send(g, w.depth); err != nil {
		w.end(g, err)
		return
	}
	m := len(w.rhdr) + w.size
	have := 0
	for {
		n, err := w.c.Read(w.in[have:])
		if n > 0 {
			now := g.since()
			measuring := g.phase.Load() == phaseMeasure
			have += n
			off, k := 0, 0
			for have-off >= m {
				msg := w.in[off : off+m]
				if !bytes.Equal(msg[:len(w.rhdr)], w.rhdr) {
					g.failed(fmt.Errorf("%w: connection %d, message %d: header % x, want % x", ErrWrongAnswer, w.id, w.recv, msg[:len(w.rhdr)], w.rhdr))
					return
				}
				if mm := verify(msg[len(w.rhdr):], w.pat, w.id, w.recv); mm != nil {
					g.failed(mm)
					return
				}
				if measuring {
					w.hist.Record(now - w.sent[w.recv%uint64(w.depth)])
					w.msgs++
				}
				w.verified++
				w.recv++
				off += m
				k++
			}
			if off > 0 {
				have = copy(w.in, w.in[off:have])
			}
			if g.phase.Load() == phaseStop {
				if w.recv == w.next && have == 0 {
					return
				}
			} else if k > 0 {
				if werr := w.send(g, k); werr != nil {
					w.end(g, werr)
					return
				}
			}
		}
		if err != nil {
			w.end(g, err)
			return
		}
	}
}

func (w *framedConn) end(g *run, err error) { g.ended(w.id, w.next-w.recv, &w.tally, err) }

// RunPush measures a push server (examples/push): cfg.Conns connections
// each read timestamp lines (nanoseconds since the epoch, then "\n") and
// check that each is a number later than the one before and not in the
// future. Messages counts the lines of the window; the latency is from the
// timestamp to the read that completed its line (the server and the client
// share the clock: run both on one machine). A connection that gets no line
// is Silent. Any goroutine.
func RunPush(ctx context.Context, cfg Config) (Result, error) {
	if checkAddr(cfg.Addr) != nil || cfg.Conns <= 0 || cfg.Duration <= 0 {
		return Result{}, fmt.Errorf("%w: address %q, %d connections, duration %v", ErrConfig, cfg.Addr, cfg.Conns, cfg.Duration)
	}
	conns, err := dialAll(ctx, &cfg, cfg.Conns)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	g := &run{cfg: cfg, epoch: time.Now()}
	workers := make([]*tally, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		w := &tally{}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); pushReader(g, i, c, w) }()
	}
	elapsed, werr := g.window(ctx)
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now())
	}
	wg.Wait()
	res := Result{Mode: "push", Client: ClientGoroutine, Conns: cfg.Conns, Size: 20, Elapsed: elapsed}
	res.collect(workers, g)
	return res, werr
}

func pushReader(g *run, id int, c net.Conn, w *tally) {
	br := bufio.NewReaderSize(c, 4096)
	var last int64
	for g.phase.Load() != phaseStop {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if g.phase.Load() != phaseStop {
				g.failed(fmt.Errorf("loadgen: connection %d after %d lines: %w", id, w.verified, err))
			}
			return
		}
		now := time.Now()
		ts, perr := strconv.ParseInt(string(line[:len(line)-1]), 10, 64)
		if perr != nil || ts <= last || ts > now.UnixNano() {
			g.failed(fmt.Errorf("%w: connection %d, line %d: %q after %d", ErrWrongAnswer, id, w.verified, line, last))
			return
		}
		last = ts
		w.verified++
		if g.phase.Load() == phaseMeasure {
			w.msgs++
			w.hist.Record(now.Sub(time.Unix(0, ts)))
		}
	}
}
