//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of a flood run.
var (
	errEchoCorrupt = errors.New("soak: echoed data differs from what was sent")
	errEchoShort   = errors.New("soak: the echo ended early")
	errPushedBack  = errors.New("soak: writes made no progress")
)

// floodConfig is the flood subcommand's settings.
type floodConfig struct {
	size   int64         // bytes each connection sends
	conns  int           // connections that flood at once
	chunk  int           // bytes per Write
	stall  time.Duration // a write making no progress for this long: pushed back
	verify bool          // read the echo back and check it
	common
}

// floodResult is what a flood run measured. Sizes are in bytes.
type floodResult struct {
	Mode string `json:"mode"`
	// Conns is how many connections flooded at once.
	Conns int `json:"conns"`
	// Size is how much each connection meant to send without reading.
	Size int64 `json:"size"`
	// Written is how much the connections wrote, together, before they were
	// pushed back (or Conns*Size if they never were).
	Written int64 `json:"written"`
	// PushedBack is true when every connection's writes made no progress
	// for Stall; PushedBackConns counts the connections that were.
	PushedBack      bool `json:"pushed_back"`
	PushedBackConns int  `json:"pushed_back_conns"`
	// FreshServed says whether a new connection, opened while the flooding
	// ones were pushed back, got its 64-byte echo, and FreshRTT how fast.
	FreshServed bool   `json:"fresh_served"`
	FreshRTT    string `json:"fresh_rtt,omitempty"`
	FreshErr    string `json:"fresh_error,omitempty"`
	// Stall is the time without progress that counts as pushed back.
	Stall string `json:"stall"`
	// FloodTime is the time from the first write to the last progress.
	FloodTime string `json:"flood_time"`
	// Ended says how the connection stood at the end of the flood phase:
	// "open, reading paused" or "closed: <why>".
	Ended string `json:"ended"`
	// WriteError is the error that ended the client's writes, if any.
	WriteError string `json:"write_error,omitempty"`
	// Echoed is how many bytes the client read back after the flood phase,
	// and Verified whether they matched what was sent.
	Echoed     int64  `json:"echoed"`
	Verified   bool   `json:"verified"`
	VerifyErr  string `json:"verify_error,omitempty"`
	VerifyTime string `json:"verify_time,omitempty"`
	serverMemory
}

// runFlood sends cfg.size bytes on each of cfg.conns connections without
// reading, checks that a fresh connection is served meanwhile, then (with
// cfg.verify) reads every echo back and checks it.
func runFlood(ctx context.Context, cfg floodConfig) (*floodResult, error) {
	if cfg.size <= 0 || cfg.chunk <= 0 || cfg.conns <= 0 {
		return nil, fmt.Errorf("%w: -size, -chunk and -conns must be positive", errUsage)
	}
	srv, err := cfg.start(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &floodResult{Mode: "flood", Conns: cfg.conns, Size: cfg.size, Stall: cfg.stall.String()}
	res.IdleRSS, err = idleRSS(srv.pid, cfg.idle)
	if err != nil {
		return nil, err
	}
	smp := startSampler(srv.pid, cfg.every)

	conns := make([]net.Conn, cfg.conns)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", srv.addr); err != nil {
			smp.finish()
			return nil, err
		}
		defer conns[i].Close()
	}
	type floodEnd struct {
		written int64
		last    time.Time
		err     error
	}
	ends := make([]floodEnd, len(conns))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			w, l, e := flood(c, 0, cfg.size, cfg.chunk, cfg.stall)
			ends[i] = floodEnd{w, l, e}
		})
	}
	wg.Wait()
	var last time.Time
	for _, e := range ends {
		res.Written += e.written
		if e.last.After(last) {
			last = e.last
		}
		switch {
		case e.err == nil:
		case errors.Is(e.err, errPushedBack):
			res.PushedBackConns++
		case res.WriteError == "":
			res.WriteError = e.err.Error()
		}
	}
	res.PushedBack = res.PushedBackConns == len(conns)
	res.FloodTime = last.Sub(start).Round(time.Millisecond).String()
	res.LoadRSS = smp.mark()
	profile := cfg.saveProfile(srv, "flood")

	time.Sleep(200 * time.Millisecond) // let the server log a close
	switch reasons := srv.closeReasons(); {
	case !srv.alive():
		res.Ended = "closed: the server exited"
	case len(reasons) > 0:
		for r := range reasons {
			res.Ended = "closed: " + r
		}
	case res.PushedBack:
		res.Ended = "open, reading paused"
	default:
		res.Ended = "open"
	}

	// A fresh client, while the flooding ones are held.
	fstart := time.Now()
	if ferr := pingOnce(srv.addr, 5*time.Second); ferr != nil {
		res.FreshErr = ferr.Error()
	} else {
		res.FreshServed = true
		res.FreshRTT = time.Since(fstart).Round(time.Microsecond).String()
	}

	if cfg.verify && res.WriteError == "" && srv.alive() {
		vstart := time.Now()
		var echoed atomic.Int64
		verr := make(chan error, len(conns))
		for i, c := range conns {
			wg.Go(func() {
				n, err := readBack(c, ends[i].written, cfg.size, cfg.chunk)
				echoed.Add(n)
				if err != nil {
					verr <- err
				}
			})
		}
		wg.Wait()
		close(verr)
		res.Echoed = echoed.Load()
		res.VerifyTime = time.Since(vstart).Round(time.Millisecond).String()
		res.Verified = res.Echoed == cfg.size*int64(len(conns))
		if err := <-verr; err != nil {
			res.Verified = false
			res.VerifyErr = err.Error()
		}
	}
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	res.serverMemory = finishMemory(srv, smp, res.IdleRSS, res.LoadRSS, cfg.every)
	res.Profile = profile
	return res, nil
}

// pingOnce opens a connection to addr, sends 64 bytes and checks their echo.
func pingOnce(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	msg := make([]byte, 64)
	fillPattern(msg, 0)
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	return checkPattern(got, 0)
}

// flood writes the pattern from offset off up to size, chunk bytes at a
// time, on its own goroutine. It returns the bytes written and the time of
// the last progress, when all is written, on an error, or, with stall > 0,
// once no write made progress for stall: then it unblocks the writer and
// returns errPushedBack.
func flood(c net.Conn, off, size int64, chunk int, stall time.Duration) (written int64, last time.Time, err error) {
	var n, lastNano atomic.Int64
	lastNano.Store(time.Now().UnixNano())
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		for pos := off; pos < size; {
			b := buf[:min(int64(chunk), size-pos)]
			fillPattern(b, pos)
			m, err := c.Write(b)
			pos += int64(m)
			n.Add(int64(m))
			if err != nil {
				done <- err // a partial write's progress has no known time
				return
			}
			lastNano.Store(time.Now().UnixNano())
		}
		done <- nil
	}()
	result := func() (int64, time.Time) { return n.Load(), time.Unix(0, lastNano.Load()) }
	if stall <= 0 {
		err := <-done
		w, l := result()
		return w, l, err
	}
	tick := time.NewTicker(min(stall/20, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			w, l := result()
			return w, l, err
		case <-tick.C:
			if time.Since(time.Unix(0, lastNano.Load())) < stall {
				continue
			}
			_ = c.SetWriteDeadline(time.Now()) // unblock the writer
			<-done
			_ = c.SetWriteDeadline(time.Time{})
			w, l := result()
			return w, l, errPushedBack
		}
	}
}

// readBack reads the echo of the first size bytes and checks it, while the
// rest of the data (from written on) is sent. It returns how many bytes came
// back.
func readBack(c net.Conn, written, size int64, chunk int) (int64, error) {
	werr := make(chan error, 1)
	go func() {
		_, _, err := flood(c, written, size, chunk, 30*time.Second)
		werr <- err
	}()
	buf := make([]byte, 256<<10)
	var got int64
	for got < size {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Read(buf[:min(int64(len(buf)), size-got)])
		if cerr := checkPattern(buf[:n], got); cerr != nil {
			return got, cerr
		}
		got += int64(n)
		if err == io.EOF {
			return got, fmt.Errorf("%w after %d of %d bytes", errEchoShort, got, size)
		}
		if err != nil {
			return got, err
		}
	}
	if err := <-werr; err != nil {
		return got, err
	}
	return got, nil
}
