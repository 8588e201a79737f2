package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// runLogged runs the command name with args until the test ends, as
// startServer does (allowing 15s for the stop), and returns the address it
// listens on and its log file.
func runLogged(t *testing.T, name string, args ...string) (string, *os.File) {
	t.Helper()
	return runCommand(t, 15*time.Second, name, args...)
}

// logLine returns the first JSON log line of the file whose message is msg.
func logLine(t *testing.T, path, msg string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["message"] == msg {
			return m
		}
	}
	t.Fatalf("no %q line in the log", msg)
	return nil
}

// scrape fetches url and parses it with the Prometheus text parser, into
// the value of each counter and gauge series, as `name{label="value",...}`
// (labels sorted by name, `name{}` without labels).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: Content-Type %q, want the text format", url, ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	out := make(map[string]float64)
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestMetricsScrape runs echo with --metrics, makes N connections that
// echo M bytes each, K of which the client aborts (RST), and checks the
// counts scraped from the real endpoint.
func TestMetricsScrape(t *testing.T) {
	addr, logs := runLogged(t, "echo", "--listen", "tcp:0:interface=127.0.0.1", "--loops", "2", "--metrics", "127.0.0.1:0", "--log-format", "json")
	started := logLine(t, logs.Name(), "started")
	metrics, _ := started["metrics"].(string)
	if metrics == "" {
		t.Fatalf("started line without the metrics address: %v", started)
	}
	for _, field := range []string{"version", "pid", "loops", "listen", "addr", "idle_timeout", "write_stall_timeout", "max_connections", "max_per_ip", "stop_timeout"} {
		if _, ok := started[field]; !ok {
			t.Errorf("started line without %q: %v", field, started)
		}
	}
	if started["loops"] != 2.0 {
		t.Errorf("started: loops %v, want 2", started["loops"])
	}

	const n, m, k = 7, 3000, 3
	msg := strings.Repeat("x", m)
	for i := range n {
		c := dialServer(t, addr)
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, m)); err != nil {
			t.Fatal(err)
		}
		if i < k {
			c.(*net.TCPConn).SetLinger(0) // Close sends a reset
		}
		c.Close()
	}

	url := "http://" + metrics + "/metrics"
	want := map[string]float64{
		"whirl_loops{}":                                              2,
		"whirl_connections_open{}":                                   0,
		"whirl_connections_accepted_total{}":                         n,
		"whirl_connections_refused_total{}":                          0,
		"whirl_received_bytes_total{}":                               n * m,
		"whirl_sent_bytes_total{}":                                   n * m,
		"whirl_output_buffered_bytes{}":                              0,
		"whirl_connections_paused{}":                                 0,
		"whirl_accept_errors_total{}":                                0,
		`whirl_connections_closed_total{class="lost"}`:               k,
		`whirl_connections_closed_total{class="done"}`:               n - k,
		`whirl_connections_closed_total{class="aborted"}`:            0,
		`whirl_port_connections_accepted_total{addr="` + addr + `"}`: n,
	}
	var got map[string]float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = scrape(t, url)
		ok := true
		for key, v := range want {
			ok = ok && got[key] == v
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			for key, v := range want {
				if got[key] != v {
					t.Errorf("%s = %v, want %v", key, got[key], v)
				}
			}
			t.FailNow()
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, key := range []string{"go_goroutines{}", "process_cpu_seconds_total{}", "whirl_loop_queue_delay_seconds{}_count"} {
		if _, ok := got[key]; !ok {
			t.Errorf("no %s in the scrape", key)
		}
	}

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get("http://" + metrics + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %s, %d bytes", path, resp.Status, len(body))
		}
	}
}

func TestMetricsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env, _, stderr := testEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got := runMain(ctx, []string{"echo", "--listen", "tcp:0:interface=127.0.0.1", "--metrics", ln.Addr().String()}, env); got != exitError {
		t.Errorf("exit status %d, want %d", got, exitError)
	}
	if !strings.Contains(stderr.String(), "metrics") {
		t.Errorf("stderr = %q, want the metrics error", stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"version", "extra"}, {"help", "version"}} {
		env, stdout, stderr := testEnv(t)
		code := runMain(context.Background(), args, env)
		switch args[len(args)-1] {
		case "version":
			if args[0] == "help" {
				if code != exitOK || !strings.Contains(stdout.String(), "Usage: whirl version") {
					t.Errorf("%q: %d, stdout %q", args, code, stdout)
				}
				continue
			}
			if code != exitOK || !strings.HasPrefix(stdout.String(), "whirl ") || !strings.Contains(stdout.String(), "go1.") {
				t.Errorf("%q: %d, stdout %q stderr %q", args, code, stdout, stderr)
			}
		default:
			if code != exitUsage || !strings.Contains(stderr.String(), "unexpected argument") {
				t.Errorf("%q: %d, stderr %q", args, code, stderr)
			}
		}
	}
}

// TestHelpShowsEveryDefault checks that -h gives each flag's default, the
// zero ones included.
func TestHelpShowsEveryDefault(t *testing.T) {
	env, stdout, _ := testEnv(t)
	if code := runMain(context.Background(), []string{"help", "echo"}, env); code != exitOK {
		t.Fatalf("exit status %d", code)
	}
	out := stdout.String()
	for _, flag := range []string{"listen", "log-level", "log-format", "loops", "idle-timeout", "write-stall-timeout", "max-connections", "max-per-ip", "metrics", "pid-file", "stop-timeout"} {
		i := strings.Index(out, "  -"+flag+" ")
		if i < 0 {
			t.Errorf("-%s missing from the help", flag)
			continue
		}
		rest := out[i+3:]
		if j := strings.Index(rest, "\n  -"); j >= 0 {
			rest = rest[:j]
		}
		if !strings.Contains(rest, "(default ") {
			t.Errorf("-%s without its default: %q", flag, rest)
		}
	}
	for _, s := range []string{`-loops number`, "(default 0)", `(default "")`, `(default "auto")`, "(default 10s)"} {
		if !strings.Contains(out, s) {
			t.Errorf("help without %q", s)
		}
	}
}
