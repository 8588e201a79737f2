//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// chatConfig is the chatflood subcommand's settings.
type chatConfig struct {
	flooders  int           // clients that send lines as fast as they can and never read
	readers   int           // clients that read and check every line
	duration  time.Duration // how long the flooders flood
	line      int           // bytes of each flooded line, without CR LF
	interval  time.Duration // between two probe lines
	baseline  time.Duration // probing before the flood
	settle    time.Duration // probing after the flood
	reconnect bool          // a flooder whose connection fails connects again
	common
}

// Phases of a chatflood run.
const (
	chatBefore = iota // readers and probe only
	chatFlood         // the flooders write
	chatAfter         // the flooders stopped writing (still connected)
	chatPhases
)

var chatPhaseNames = [chatPhases]string{"before", "flood", "after"}

// chatLatency summarizes the probe's round trips in one phase.
type chatLatency struct {
	Phase string `json:"phase"`
	// Sent is the number of probe lines sent in the phase, Lost those that
	// never came back.
	Sent int `json:"sent"`
	Lost int `json:"lost"`
	// P50, P99 and Max are in microseconds, over every probe sent, a lost
	// one counting as infinitely late: -1 when the percentile is a lost
	// probe.
	P50 float64 `json:"p50_us"`
	P99 float64 `json:"p99_us"`
	Max float64 `json:"max_us"`
	// Duration is how long the phase lasted.
	Duration string `json:"duration"`
}

// chatResult is what a chatflood run measured.
type chatResult struct {
	Mode       string `json:"mode"`
	Flooders   int    `json:"flooders"`
	Readers    int    `json:"readers"`
	Duration   string `json:"duration"`
	Line       int    `json:"line"`
	ServerArgs string `json:"server_args"`
	// FloodLines and FloodBytes are what the flooders wrote (lines wholly
	// written); FloodEnds counts how their connections ended ("deadline":
	// the flood was over). With Reconnect, a flooder whose connection
	// failed connected again (under a new nickname): Connections counts
	// them all.
	FloodLines  int64          `json:"flood_lines"`
	FloodBytes  int64          `json:"flood_bytes"`
	FloodEnds   map[string]int `json:"flood_ends"`
	Reconnect   bool           `json:"reconnect"`
	Connections int            `json:"flood_connections"`
	// Delivered is the number of distinct flooded lines the readers saw
	// (the highest sequence number of each flooder, over every reader);
	// each reader should get all of them.
	Delivered int64 `json:"delivered_lines"`
	// ReaderLines is the fewest and most flooded lines one reader got.
	ReaderLinesMin int64 `json:"reader_lines_min"`
	ReaderLinesMax int64 `json:"reader_lines_max"`
	// Missing is the number of lines readers did not get without being
	// told why (a gap in a flooder's sequence, or a flooder's lines ending
	// early for one reader); Told counts the readers that got an ERROR line
	// (and so may miss lines), Ended those whose connection the server
	// closed.
	Missing int64    `json:"missing_lines"`
	Told    int      `json:"told_in_band"`
	ToldWhy []string `json:"told,omitempty"`
	Ended   int      `json:"ended"`
	// Probe is the probe client's round trips: a line it sends, timed until
	// the first reader gets it.
	Probe []chatLatency `json:"probe"`
	// FloodRSS is the server's peak RSS during the flood phase.
	FloodRSS int64 `json:"flood_peak_rss"`
	serverMemory
}

// runChatFlood runs `whirl chat`, connects the readers and the probe, then
// cfg.flooders clients that flood it for cfg.duration without reading.
func runChatFlood(ctx context.Context, cfg chatConfig) (*chatResult, error) {
	switch {
	case cfg.flooders < 0 || cfg.readers <= 0 || cfg.line < 16 || cfg.interval <= 0 || cfg.duration <= 0:
		return nil, fmt.Errorf("%w: -flooders must not be negative; -readers, -interval, -duration must be positive; -line at least 16", errUsage)
	case cfg.profile != "":
		return nil, fmt.Errorf("%w: -profile works with the echo modes only", errUsage)
	}
	if err := raiseFileLimit(uint64(cfg.flooders + cfg.readers + 64)); err != nil {
		return nil, err
	}
	srv, err := cfg.start(ctx, "chat")
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &chatResult{
		Mode: "chatflood", Flooders: cfg.flooders, Readers: cfg.readers, Duration: cfg.duration.String(),
		Line: cfg.line, ServerArgs: cfg.serverArgs, FloodEnds: make(map[string]int), Reconnect: cfg.reconnect,
	}
	res.IdleRSS, err = idleRSS(srv.pid, cfg.idle)
	if err != nil {
		return nil, err
	}
	smp := startSampler(srv.pid, cfg.every)
	fail := func(err error) (*chatResult, error) {
		smp.finish()
		return nil, err
	}

	var phase atomic.Int32
	pr := newProbe(cfg.interval, &phase)
	readers := make([]*chatReader, cfg.readers)
	var rwg sync.WaitGroup
	for i := range readers {
		c, err := dialNick(srv.addr, "r"+strconv.Itoa(i))
		if err != nil {
			return fail(err)
		}
		defer c.Close()
		r := &chatReader{c: c, next: make(map[string]int64)}
		if i == 0 {
			r.probe = pr
		}
		readers[i] = r
		rwg.Add(1)
		go func() { defer rwg.Done(); r.run() }()
	}
	pc, err := dialNick(srv.addr, "probe")
	if err != nil {
		return fail(err)
	}
	defer pc.Close()
	go func() { _, _ = io.Copy(io.Discard, pc) }() // it reads what the room sends
	// Wait until the server has taken every NICK, so that the probe's lines
	// and the flooders' carry their names.
	if err := waitRoom(srv.addr, cfg.readers+2); err != nil {
		return fail(err)
	}
	pdone := make(chan struct{})
	go func() { defer close(pdone); pr.send(pc) }()

	var bounds [chatPhases + 1]time.Time
	bounds[chatBefore] = time.Now()
	time.Sleep(cfg.baseline)

	phase.Store(chatFlood)
	bounds[chatFlood] = time.Now()
	deadline := bounds[chatFlood].Add(cfg.duration)
	flooders := make([]*flooder, cfg.flooders)
	var fwg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range flooders {
		f := &flooder{line: cfg.line, deadline: deadline, ends: make(map[string]int)}
		flooders[i] = f
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			for gen := 0; time.Now().Before(deadline) && (gen == 0 || cfg.reconnect); gen++ {
				sem <- struct{}{}
				c, err := net.DialTimeout("tcp", srv.addr, 10*time.Second)
				<-sem
				if err != nil {
					f.ends[floodEnd(err)]++
					return
				}
				f.conns = append(f.conns, c)
				f.ends[floodEnd(f.run(c, "f"+strconv.Itoa(i)+"."+strconv.Itoa(gen)))]++
			}
		}()
	}
	fwg.Wait()
	time.Sleep(time.Until(deadline))
	res.FloodRSS = smp.mark()

	phase.Store(chatAfter)
	bounds[chatAfter] = time.Now()
	time.Sleep(cfg.settle)
	phase.Store(chatPhases)
	bounds[chatPhases] = time.Now()
	<-pdone
	time.Sleep(time.Second) // the last probes and lines come in
	for _, r := range readers {
		r.c.Close()
	}
	rwg.Wait()
	for _, f := range flooders {
		for _, c := range f.conns {
			c.Close()
		}
		res.Connections += len(f.conns)
		res.FloodLines += f.lines
		res.FloodBytes += f.written
		for k, v := range f.ends {
			res.FloodEnds[k] += v
		}
	}

	// Every flooder's lines, as far as any reader got them.
	last := make(map[string]int64)
	for _, r := range readers {
		for nick, next := range r.next {
			last[nick] = max(last[nick], next)
		}
	}
	for _, n := range last {
		res.Delivered += n
	}
	res.ReaderLinesMin = math.MaxInt64
	for _, r := range readers {
		res.ReaderLinesMin = min(res.ReaderLinesMin, r.lines)
		res.ReaderLinesMax = max(res.ReaderLinesMax, r.lines)
		if r.told != "" {
			res.Told++
			res.ToldWhy = append(res.ToldWhy, r.told)
			continue
		}
		if r.ended {
			res.Ended++
		}
		res.Missing += r.missing
		for nick, n := range last {
			res.Missing += n - r.next[nick]
		}
	}
	res.Probe = pr.summary(bounds)
	time.Sleep(200 * time.Millisecond)
	res.serverMemory = finishMemory(srv, smp, res.IdleRSS, res.FloodRSS, cfg.every)
	return res, nil
}

// dialNick connects to the chat and sends NICK nick.
func dialNick(addr, nick string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, "NICK "+nick+"\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitRoom connects a client until its WELCOME counts n users (itself
// included), so that the n-1 connected before it have joined (and, their
// NICK sent first, chosen their names).
func waitRoom(addr string, n int) error {
	end := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil {
			return fmt.Errorf("soak: reading WELCOME: %w", err)
		}
		var got int
		if _, err := fmt.Sscanf(line, "WELCOME %d users online", &got); err != nil {
			return fmt.Errorf("soak: unexpected first line %q", line)
		}
		if got >= n {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("soak: the clients did not all join the room in 10 s")
}

// floodEnd names how a flooder's connection ended, without the addresses.
func floodEnd(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "not started"
	case errors.As(err, &ne) && ne.Timeout():
		return "deadline"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return err.Error()
}

// flooder is a client that sends NICK and then numbered lines as fast as
// it can until its deadline, and never reads; with -reconnect, it connects
// again when the server closes its connection.
type flooder struct {
	line     int
	deadline time.Time

	conns   []net.Conn
	lines   int64 // lines wholly written
	written int64
	ends    map[string]int // how its connections ended
}

// run floods c as nick until the deadline or an error, which it returns.
func (f *flooder) run(c net.Conn, nick string) error {
	_ = c.SetWriteDeadline(f.deadline)
	if _, err := io.WriteString(c, "NICK "+nick+"\r\n"); err != nil {
		return err
	}
	const batch = 64 << 10
	buf := make([]byte, 0, batch+f.line+2)
	pad := bytes.Repeat([]byte{'x'}, f.line)
	for seq := int64(0); ; {
		buf = buf[:0]
		for len(buf) < batch {
			start := len(buf)
			buf = strconv.AppendInt(buf, seq, 10)
			buf = append(buf, ' ')
			buf = append(buf, pad[:max(f.line-(len(buf)-start), 0)]...)
			buf = append(buf, '\r', '\n')
			seq++
		}
		n, err := c.Write(buf)
		f.written += int64(n)
		f.lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err != nil {
			return err
		}
	}
}

// chatReader is a client that reads every line and checks that it got every
// flooded line, in order.
type chatReader struct {
	c     net.Conn
	probe *probe // the first reader times the probe's lines

	next    map[string]int64 // per flooder: the next sequence number expected
	lines   int64            // flooded lines received
	missing int64            // lines skipped in a flooder's sequence
	told    string           // the ERROR line, if one came
	ended   bool             // the server closed the connection
}

func (r *chatReader) run() {
	br := bufio.NewReaderSize(r.c, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			r.ended = errors.Is(err, io.EOF)
			return
		}
		line = bytes.TrimSuffix(line, []byte("\r\n"))
		nick, msg, ok := bytes.Cut(line, []byte(": "))
		switch {
		case bytes.HasPrefix(line, []byte("ERROR ")):
			r.told = string(line)
		case !ok:
			// WELCOME, OK r<i>
		case string(nick) == "probe":
			if r.probe != nil {
				r.probe.received(msg)
			}
		case len(nick) > 0 && nick[0] == 'f':
			seqText, _, _ := bytes.Cut(msg, []byte(" "))
			seq, err := strconv.ParseInt(string(seqText), 10, 64)
			if err != nil {
				continue
			}
			want := r.next[string(nick)]
			if seq > want {
				r.missing += seq - want
			}
			if seq >= want {
				r.next[string(nick)] = seq + 1
			}
			r.lines++
		}
	}
}

// probe sends a numbered, timestamped line every interval (whether or not
// the earlier ones came back, so that a stall delays every probe sent
// during it) and records when the first reader gets each.
type probe struct {
	every time.Duration
	phase *atomic.Int32

	mu    sync.Mutex
	sent  []probeRecord
	byseq map[int64]int
}

type probeRecord struct {
	phase int
	at    time.Time
	rtt   time.Duration // 0 until received
}

func newProbe(every time.Duration, phase *atomic.Int32) *probe {
	return &probe{every: every, phase: phase, byseq: make(map[int64]int)}
}

// send writes probe lines on c until the phases are over.
func (p *probe) send(c net.Conn) {
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	var buf []byte
	for seq := int64(0); ; seq++ {
		ph := int(p.phase.Load())
		if ph >= chatPhases {
			return
		}
		now := time.Now()
		p.mu.Lock()
		p.byseq[seq] = len(p.sent)
		p.sent = append(p.sent, probeRecord{phase: ph, at: now})
		p.mu.Unlock()
		buf = strconv.AppendInt(buf[:0], seq, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, now.UnixNano(), 10)
		buf = append(buf, '\r', '\n')
		_ = c.SetWriteDeadline(now.Add(10 * time.Second))
		if _, err := c.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, "soak: probe:", err)
			return
		}
		<-tick.C
	}
}

// received records the arrival of the probe line msg ("<seq> <nanos>").
func (p *probe) received(msg []byte) {
	now := time.Now()
	seqText, _, _ := bytes.Cut(msg, []byte(" "))
	seq, err := strconv.ParseInt(string(seqText), 10, 64)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if i, ok := p.byseq[seq]; ok && p.sent[i].rtt == 0 {
		p.sent[i].rtt = max(now.Sub(p.sent[i].at), time.Nanosecond)
	}
}

// summary returns the round trips of each phase.
func (p *probe) summary(bounds [chatPhases + 1]time.Time) []chatLatency {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]chatLatency, chatPhases)
	all := make([][]time.Duration, chatPhases)
	for _, s := range p.sent {
		rtt := s.rtt
		if rtt == 0 {
			rtt = math.MaxInt64
			out[s.phase].Lost++
		}
		all[s.phase] = append(all[s.phase], rtt)
	}
	us := func(d time.Duration) float64 {
		if d == math.MaxInt64 {
			return -1
		}
		return float64(d.Nanoseconds()) / 1e3
	}
	for ph := range out {
		l := &out[ph]
		l.Phase = chatPhaseNames[ph]
		l.Duration = bounds[ph+1].Sub(bounds[ph]).Round(time.Millisecond).String()
		l.Sent = len(all[ph])
		if l.Sent > 0 {
			slices.Sort(all[ph])
			l.P50, l.P99, l.Max = us(percentile(all[ph], 50)), us(percentile(all[ph], 99)), us(all[ph][l.Sent-1])
		}
	}
	return out
}
