//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
	size   int64         // bytes to send
	chunk  int           // bytes per Write
	stall  time.Duration // a write making no progress for this long: pushed back
	verify bool          // read the echo back and check it
	common
}

// floodResult is what a flood run measured. Sizes are in bytes.
type floodResult struct {
	Mode string `json:"mode"`
	// Size is how much the client meant to send without reading.
	Size int64 `json:"size"`
	// Written is how much the client wrote before it was pushed back (or
	// Size if it never was).
	Written int64 `json:"written"`
	// PushedBack is true when a write made no progress for Stall.
	PushedBack bool `json:"pushed_back"`
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

// runFlood sends cfg.size bytes on one connection without reading, then
// (with cfg.verify) reads the echo back and checks it.
func runFlood(ctx context.Context, cfg floodConfig) (*floodResult, error) {
	if cfg.size <= 0 || cfg.chunk <= 0 {
		return nil, fmt.Errorf("%w: -size and -chunk must be positive", errUsage)
	}
	srv, err := cfg.start(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &floodResult{Mode: "flood", Size: cfg.size, Stall: cfg.stall.String()}
	res.IdleRSS, err = idleRSS(srv.pid, cfg.idle)
	if err != nil {
		return nil, err
	}
	smp := startSampler(srv.pid, cfg.every)

	c, err := net.Dial("tcp", srv.addr)
	if err != nil {
		smp.finish()
		return nil, err
	}
	defer c.Close()
	start := time.Now()
	written, last, werr := flood(c, 0, cfg.size, cfg.chunk, cfg.stall)
	res.FloodTime = last.Sub(start).Round(time.Millisecond).String()
	res.Written = written
	res.LoadRSS = smp.mark()
	profile := cfg.saveProfile(srv, "flood")
	switch {
	case werr == nil:
	case errors.Is(werr, errPushedBack):
		res.PushedBack = true
	default:
		res.WriteError = werr.Error()
	}
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

	if cfg.verify && res.WriteError == "" && srv.alive() {
		vstart := time.Now()
		res.Echoed, err = readBack(c, written, cfg.size, cfg.chunk)
		res.VerifyTime = time.Since(vstart).Round(time.Millisecond).String()
		res.Verified = err == nil && res.Echoed == cfg.size
		if err != nil {
			res.VerifyErr = err.Error()
		}
	}
	c.Close()
	time.Sleep(200 * time.Millisecond)
	res.serverMemory = finishMemory(srv, smp, res.IdleRSS, res.LoadRSS, cfg.every)
	res.Profile = profile
	return res, nil
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
