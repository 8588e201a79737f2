//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"time"
)

// headersConfig is the headers subcommand's settings.
type headersConfig struct {
	conns    int           // connections that send a header and hold
	framing  string        // int32, int16, int8 or netstring
	announce int64         // the length each header announces; 0: the largest the framing carries, at most 2^31-1
	payload  int           // bytes of the announced string sent after the header
	hold     time.Duration // how long the connections hold once they sent
	common
}

// headersResult is what a headers run measured. Sizes are in bytes.
type headersResult struct {
	Mode    string `json:"mode"`
	Conns   int    `json:"conns"`
	Framing string `json:"framing"`
	// Announced is the length each header announced, also the server's
	// --max-length, so the server must accept it and wait for the rest.
	Announced int64 `json:"announced"`
	// Payload is how many bytes of the string each connection sent.
	Payload int `json:"payload"`
	// Hold is how long the connections held, once they all sent.
	Hold string `json:"hold"`
	// Open is how many of the connections were still open after Hold (the
	// server waiting for the rest of the string).
	Open int `json:"open"`
	// FreshServed says whether a new connection, opened while the others
	// held, got its framed "ping" echoed, and FreshRTT how fast.
	FreshServed bool   `json:"fresh_served"`
	FreshRTT    string `json:"fresh_rtt,omitempty"`
	FreshErr    string `json:"fresh_error,omitempty"`
	serverMemory
}

// framingLimit is the largest length a framing's header carries, capped at
// 2^31-1 (the largest --max-length the receivers take on every platform).
func framingLimit(framing string) (int64, error) {
	switch framing {
	case "int32", "netstring":
		return math.MaxInt32, nil
	case "int16":
		return math.MaxUint16, nil
	case "int8":
		return math.MaxUint8, nil
	}
	return 0, fmt.Errorf("%w: unknown -framing %q (int32, int16, int8 or netstring)", errUsage, framing)
}

// frameHeader returns the header of a string of n bytes in framing.
func frameHeader(framing string, n int64) []byte {
	switch framing {
	case "int32":
		return binary.BigEndian.AppendUint32(nil, uint32(n))
	case "int16":
		return binary.BigEndian.AppendUint16(nil, uint16(n))
	case "int8":
		return []byte{byte(n)}
	}
	return append(strconv.AppendInt(nil, n, 10), ':')
}

// frameWhole returns s framed whole in framing.
func frameWhole(framing string, s string) []byte {
	b := append(frameHeader(framing, int64(len(s))), s...)
	if framing == "netstring" {
		b = append(b, ',')
	}
	return b
}

// headersCommand is the server the headers mode runs: the framed echo with
// MaxLength set to the announced length.
func headersCommand(cfg headersConfig) []string {
	return []string{"framedecho", "--framing", cfg.framing, "--max-length", strconv.FormatInt(cfg.announce, 10)}
}

// runHeaders opens cfg.conns connections that each send a header announcing
// cfg.announce bytes and cfg.payload bytes of the string, then hold; it
// samples the server's RSS meanwhile, and checks that a fresh client is
// served.
func runHeaders(ctx context.Context, cfg headersConfig) (*headersResult, error) {
	limit, err := framingLimit(cfg.framing)
	if err != nil {
		return nil, err
	}
	if cfg.announce == 0 {
		cfg.announce = limit
	}
	switch {
	case cfg.conns <= 0 || cfg.payload < 0 || cfg.announce < 0:
		return nil, fmt.Errorf("%w: -conns must be positive, -payload and -announce not negative", errUsage)
	case cfg.announce > limit:
		return nil, fmt.Errorf("%w: -announce %d is more than %s carries (%d)", errUsage, cfg.announce, cfg.framing, limit)
	case int64(cfg.payload) >= cfg.announce:
		return nil, fmt.Errorf("%w: -payload must be less than the announced length", errUsage)
	case cfg.profile != "":
		return nil, fmt.Errorf("%w: -profile runs pprofecho, which serves only echo", errUsage)
	}
	srv, err := startServer(ctx, cfg.server, headersCommand(cfg), splitArgs(cfg.serverArgs), false)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	res := &headersResult{Mode: "headers", Conns: cfg.conns, Framing: cfg.framing, Announced: cfg.announce, Payload: cfg.payload, Hold: cfg.hold.String()}
	res.IdleRSS, err = idleRSS(srv.pid, cfg.idle)
	if err != nil {
		return nil, err
	}
	smp := startSampler(srv.pid, cfg.every)

	msg := append(frameHeader(cfg.framing, cfg.announce), make([]byte, cfg.payload)...)
	conns := make([]net.Conn, cfg.conns)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", srv.addr); err != nil {
			smp.finish()
			return nil, err
		}
		defer conns[i].Close()
		if _, err := conns[i].Write(msg); err != nil {
			smp.finish()
			return nil, err
		}
	}
	time.Sleep(cfg.hold)
	for _, c := range conns {
		if stillOpen(c) {
			res.Open++
		}
	}
	res.LoadRSS = smp.mark()

	fstart := time.Now()
	if ferr := framedPing(srv.addr, cfg.framing, 5*time.Second); ferr != nil {
		res.FreshErr = ferr.Error()
	} else {
		res.FreshServed = true
		res.FreshRTT = time.Since(fstart).Round(time.Microsecond).String()
	}
	for _, c := range conns {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	res.serverMemory = finishMemory(srv, smp, res.IdleRSS, res.LoadRSS, cfg.every)
	return res, nil
}

// stillOpen reports whether the server has neither closed c nor sent on it:
// a read times out.
func stillOpen(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// framedPing opens a connection to addr, sends "ping" framed and checks its
// echo.
func framedPing(addr, framing string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	msg := frameWhole(framing, "ping")
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != string(msg) {
		return fmt.Errorf("%w: sent %q, got %q", errEchoCorrupt, msg, got)
	}
	return nil
}
