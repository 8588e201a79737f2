package httpplain_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// The integration tests run the server on a reactor with two loops on
// 127.0.0.1:0.

func serve(t *testing.T) string {
	t.Helper()
	return reactortest.Serve(t, &httpplain.Factory{}, reactor.WithLoops(2)).Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// readAnswer reads one answer with net/http's parser and checks it.
func readAnswer(t *testing.T, br *bufio.Reader, status int, body string) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || string(b) != body {
		t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, status, body)
	}
	for _, h := range []string{"Date", "Server", "Content-Type", "Content-Length"} {
		if resp.Header.Get(h) == "" {
			t.Fatalf("no %s header in %v", h, resp.Header)
		}
	}
	return resp
}

func TestServerPipelinedByteByByte(t *testing.T) {
	c := dial(t, serve(t))
	input := strings.Repeat(get, 4)
	for i := range len(input) {
		if _, err := c.Write([]byte{input[i]}); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(c)
	for range 4 {
		readAnswer(t, br, 200, httpplain.Body)
	}
}

func TestServerNetHTTPClient(t *testing.T) {
	addr := serve(t)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for range 3 { // keep-alive: one connection, three requests
		resp, err := client.Get("http://" + addr + "/plaintext")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != httpplain.Body {
			t.Fatalf("got %d %q", resp.StatusCode, b)
		}
	}
}

func TestServerConnectionClose(t *testing.T) {
	c := dial(t, serve(t))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"+get)
	br := bufio.NewReader(c)
	resp := readAnswer(t, br, 200, httpplain.Body)
	if !resp.Close {
		t.Fatalf("answer without Connection: close: %v", resp.Header)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the close: %q, %v; want the end of the stream", rest, err)
	}
}

func TestServerHeadTooLarge(t *testing.T) {
	c := dial(t, serve(t))
	_, _ = io.WriteString(c, get+"GET / HTTP/1.1\r\nHost: x\r\nX: "+strings.Repeat("a", 10000))
	br := bufio.NewReader(c)
	readAnswer(t, br, 200, httpplain.Body)
	readAnswer(t, br, 431, "Request Header Fields Too Large")
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the 431: %v; want the end of the stream", err)
	}
}

// TestWrk runs wrk for a second against the server, 16 requests pipelined on
// each of 8 connections, and checks that every answer was a 2xx, that
// nothing failed, and that wrk's latency percentiles were read. It skips when wrk is not installed (apt-get install wrk).
func TestWrk(t *testing.T) {
	if _, err := loadgen.WrkPath(); err != nil {
		t.Skip(err)
	}
	addr := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := loadgen.RunWrk(ctx, loadgen.Config{Addr: addr, Conns: 8, Depth: 16, Loops: 1, Duration: time.Second}, "/plaintext", httpplain.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Messages == 0 {
		t.Fatalf("wrk: %d requests, %d errors, %d mismatches: %s", res.Messages, res.Errors, res.Mismatches, res.FirstError)
	}
	// The latency percentiles come from bench/loadgen/pipeline.lua, which
	// works around wrk 4.1's percentile() returning 0 under pipelining.
	if res.P50 <= 0 || res.P99 < res.P50 || res.P999 < res.P99 {
		t.Fatalf("wrk latency p50 %v, p99 %v, p99.9 %v: want positive and in order", res.P50, res.P99, res.P999)
	}
	t.Logf("wrk: %d requests in %v (%.0f/s), p50 %v, p99 %v", res.Messages, res.Elapsed, res.PerSec, res.P50, res.P99)
}
