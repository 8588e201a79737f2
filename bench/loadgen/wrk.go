package loadgen

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WrkPipelineScript is the wrk Lua script RunWrk runs (pipeline.lua): each
// connection sends a batch of requests (the argument after "--", default
// 16) and waits for all their answers before the next batch, as
// TechEmpower's plaintext test; done() prints a WRKRESULT line.
//
//go:embed pipeline.lua
var WrkPipelineScript string

// ErrWrongAnswer is wrapped by the error of CheckHTTP for an answer that is
// not the expected one.
var ErrWrongAnswer = errors.New("loadgen: wrong answer")

// ErrWrk is wrapped by the errors of RunWrk about wrk itself: not installed,
// failed, or printed no result.
var ErrWrk = errors.New("loadgen: wrk")

// WrkPath returns the path of the wrk program, or an error wrapping ErrWrk
// if it is not installed (Debian: apt-get install wrk). Any goroutine.
func WrkPath() (string, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", fmt.Errorf("%w: not installed (apt-get install wrk): %v", ErrWrk, err)
	}
	return p, nil
}

// WrkResult is what one wrk run reported through WrkPipelineScript.
type WrkResult struct {
	Duration time.Duration
	Requests int64
	Bytes    int64
	// Errors counts connect, read, write, status (an answer that is not
	// 2xx or 3xx) and timeout errors.
	Connect, Read, Write, Status, Timeout int64
	P50, P99, P999, Max, Mean             time.Duration
	// CPU is the user and system time wrk used.
	CPU time.Duration
}

// Errors is the sum of every kind of error wrk counted. Any goroutine.
func (w *WrkResult) Errors() int64 { return w.Connect + w.Read + w.Write + w.Status + w.Timeout }

// RunWrkOnce runs wrk once against url with conns connections, threads
// threads (at least 1, at most conns), depth pipelined requests and a run of
// d (rounded up to whole seconds, wrk's unit), and returns what it reported.
// Any goroutine.
func RunWrkOnce(ctx context.Context, url string, conns, threads, depth int, d time.Duration) (*WrkResult, error) {
	wrk, err := WrkPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "whirl-wrk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "pipeline.lua")
	if err := os.WriteFile(script, []byte(WrkPipelineScript), 0o644); err != nil {
		return nil, err
	}
	threads = min(max(threads, 1), conns)
	secs := max(int(math.Ceil(d.Seconds())), 1)
	cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "-s", script, url, "--", strconv.Itoa(max(depth, 1)))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %v: %s%s", ErrWrk, err, out.String(), errOut.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return nil, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return res, nil
}

// parseWrk reads the WRKRESULT line of WrkPipelineScript's done().
func parseWrk(out string) (*WrkResult, error) {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "WRKRESULT ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 13 {
			break
		}
		var v [13]int64
		for i, s := range f {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: result field %d %q: %v", ErrWrk, i, s, err)
			}
			v[i] = n
		}
		us := func(n int64) time.Duration { return time.Duration(n) * time.Microsecond }
		return &WrkResult{
			Duration: us(v[0]), Requests: v[1], Bytes: v[2],
			Connect: v[3], Read: v[4], Write: v[5], Status: v[6], Timeout: v[7],
			P50: us(v[8]), P99: us(v[9]), P999: us(v[10]), Max: us(v[11]), Mean: us(v[12]),
		}, nil
	}
	return nil, fmt.Errorf("%w: no WRKRESULT line in its output: %q", ErrWrk, out)
}

// CheckHTTP sends depth pipelined GET requests for path to addr on one
// connection, in one write, and checks that each answer is 200 with body
// want, parsed by net/http. Any goroutine.
func CheckHTTP(ctx context.Context, addr, path, want string, depth int) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	if _, err := io.WriteString(c, strings.Repeat(req, depth)); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	for i := range depth {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("loadgen: answer %d of %d: %w", i+1, depth, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("loadgen: answer %d of %d: %w", i+1, depth, err)
		}
		if resp.StatusCode != 200 || string(body) != want || resp.Header.Get("Date") == "" || resp.Header.Get("Server") == "" {
			return fmt.Errorf("%w %d of %d: status %d, body %q, headers %v", ErrWrongAnswer, i+1, depth, resp.StatusCode, body, resp.Header)
		}
	}
	return nil
}

// RunWrk measures an HTTP server with wrk, as the harness's wrk scenarios
// do: it checks the answers with CheckHTTP, runs wrk for cfg.Warmup (if
// any), then calls OnPhase(PhaseMeasure), runs wrk for cfg.Duration with
// cfg.Conns connections, cfg.Depth pipelined requests per connection and
// cfg.Loops threads (0: GOMAXPROCS), and calls OnPhase(PhaseEnd). Messages
// are the requests answered in the window; every error wrk counted
// (including an answer that is not 2xx) is in Errors; ClientCPU is wrk's
// CPU time. Any goroutine.
func RunWrk(ctx context.Context, cfg Config, path, body string) (Result, error) {
	if cfg.Addr == "" || cfg.Conns <= 0 || cfg.Duration <= 0 {
		return Result{}, fmt.Errorf("%w: address %q, %d connections, duration %v", ErrConfig, cfg.Addr, cfg.Conns, cfg.Duration)
	}
	res := Result{Mode: "wrk", Client: "wrk", Conns: cfg.Conns, Depth: cfg.depth()}
	if err := CheckHTTP(ctx, cfg.Addr, path, body, cfg.depth()); err != nil {
		res.Mismatches, res.FirstError = 1, err.Error()
		return res, nil
	}
	threads := cfg.Loops
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	url := "http://" + cfg.Addr + path
	if cfg.Warmup > 0 {
		if _, err := RunWrkOnce(ctx, url, cfg.Conns, threads, cfg.depth(), cfg.Warmup); err != nil {
			return res, err
		}
	}
	if cfg.OnPhase != nil {
		cfg.OnPhase(PhaseMeasure)
	}
	w, err := RunWrkOnce(ctx, url, cfg.Conns, threads, cfg.depth(), cfg.Duration)
	if cfg.OnPhase != nil {
		cfg.OnPhase(PhaseEnd)
	}
	if err != nil {
		return res, err
	}
	res.Elapsed, res.Messages, res.Verified = w.Duration, w.Requests, w.Requests
	res.Size = 0
	if w.Requests > 0 {
		res.Size = int(w.Bytes / w.Requests)
	}
	res.Bytes = w.Bytes
	if s := w.Duration.Seconds(); s > 0 {
		res.PerSec = float64(w.Requests) / s
		res.MBPerSec = float64(w.Bytes) / s / 1e6
	}
	res.P50, res.P99, res.P999, res.Max, res.Mean = w.P50, w.P99, w.P999, w.Max, w.Mean
	res.Errors = w.Errors()
	if res.Errors > 0 {
		res.FirstError = fmt.Sprintf("wrk: %d connect, %d read, %d write, %d non-2xx, %d timeout errors", w.Connect, w.Read, w.Write, w.Status, w.Timeout)
	}
	res.ClientCPU = w.CPU
	return res, nil
}
