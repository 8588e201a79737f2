package whirlprom_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/reactor/reactortest"
	"github.com/whirl-go/whirl/whirlprom"
)

type fixed reactor.Stats

func (s fixed) Stats() reactor.Stats { return reactor.Stats(s) }

func TestCollectorFixedStats(t *testing.T) {
	s := reactor.Stats{
		Loops: 4, ConnsOpen: 3, Accepted: 10, Connected: 2, Refused: 1,
		BytesIn: 1000, BytesOut: 900, Paused: 1, Buffered: 4096, AcceptErrors: 7,
		Ports: []reactor.PortStats{
			{Addr: "127.0.0.1:8000", Accepted: 6, AcceptErrors: 2},
			{Addr: "[::]:9000", Accepted: 4},
			{Addr: "127.0.0.1:8000", Accepted: 1, AcceptErrors: 1}, // reuseport twin
		},
		QueueDelay: reactor.DelayHistogram{
			Bounds: []time.Duration{time.Microsecond, 2 * time.Microsecond, 4 * time.Microsecond},
			Counts: []int64{1, 0, 2, 3},
			Count:  6,
			Sum:    time.Millisecond,
		},
	}
	s.Closed[reactor.ClosedDone] = 5
	s.Closed[reactor.ClosedAborted] = 2
	s.Closed[reactor.ClosedIdle] = 1

	want := `
# HELP whirl_connections_closed_total Connections closed, by class of reason.
# TYPE whirl_connections_closed_total counter
whirl_connections_closed_total{class="aborted",server="t"} 2
whirl_connections_closed_total{class="done",server="t"} 5
whirl_connections_closed_total{class="idle_timeout",server="t"} 1
whirl_connections_closed_total{class="linger_timeout",server="t"} 0
whirl_connections_closed_total{class="lost",server="t"} 0
whirl_connections_closed_total{class="protocol_error",server="t"} 0
whirl_connections_closed_total{class="stop_deadline",server="t"} 0
whirl_connections_closed_total{class="write_overflow",server="t"} 0
whirl_connections_closed_total{class="write_stalled",server="t"} 0
# HELP whirl_connections_open Connections open now, accepted or connected.
# TYPE whirl_connections_open gauge
whirl_connections_open{server="t"} 3
# HELP whirl_loop_queue_delay_seconds How long work handed to a loop from another goroutine waited before it ran, sampled every 250 ms per loop.
# TYPE whirl_loop_queue_delay_seconds histogram
whirl_loop_queue_delay_seconds_bucket{server="t",le="1e-06"} 1
whirl_loop_queue_delay_seconds_bucket{server="t",le="2e-06"} 1
whirl_loop_queue_delay_seconds_bucket{server="t",le="4e-06"} 3
whirl_loop_queue_delay_seconds_bucket{server="t",le="+Inf"} 6
whirl_loop_queue_delay_seconds_sum{server="t"} 0.001
whirl_loop_queue_delay_seconds_count{server="t"} 6
# HELP whirl_port_accept_errors_total Failed accepts, per listening port.
# TYPE whirl_port_accept_errors_total counter
whirl_port_accept_errors_total{addr="127.0.0.1:8000",server="t"} 3
whirl_port_accept_errors_total{addr="[::]:9000",server="t"} 0
# HELP whirl_port_connections_accepted_total Connections accepted, per listening port.
# TYPE whirl_port_connections_accepted_total counter
whirl_port_connections_accepted_total{addr="127.0.0.1:8000",server="t"} 7
whirl_port_connections_accepted_total{addr="[::]:9000",server="t"} 4
`
	c := whirlprom.New(fixed(s), whirlprom.WithConstLabels(prometheus.Labels{"server": "t"}))
	names := []string{
		"whirl_connections_closed_total", "whirl_connections_open",
		"whirl_loop_queue_delay_seconds", "whirl_port_accept_errors_total",
		"whirl_port_connections_accepted_total",
	}
	if got := text(t, c, names...); got != strings.TrimLeft(want, "\n") {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}

	got := values(t, c)
	for name, want := range map[string]float64{
		`whirl_loops{server="t"}`:                       4,
		`whirl_connections_accepted_total{server="t"}`:  10,
		`whirl_connections_connected_total{server="t"}`: 2,
		`whirl_connections_refused_total{server="t"}`:   1,
		`whirl_received_bytes_total{server="t"}`:        1000,
		`whirl_sent_bytes_total{server="t"}`:            900,
		`whirl_connections_paused{server="t"}`:          1,
		`whirl_output_buffered_bytes{server="t"}`:       4096,
		`whirl_accept_errors_total{server="t"}`:         7,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s: got %v (present %v), want %v", name, v, ok, want)
		}
	}
	if n := len(got); n != 10+9+2*2 {
		t.Errorf("%d counter and gauge series, want %d", n, 10+9+2*2)
	}
}

// gather collects c through a pedantic registry, which checks that what
// Collect sends matches Describe.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// text returns the families named, in the text exposition format.
func text(t *testing.T, c prometheus.Collector, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, mf := range gather(t, c) {
		if slices.Contains(names, mf.GetName()) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// values returns every counter and gauge series as `name{labels}`, labels
// sorted by name.
func values(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	out := make(map[string]float64)
	for _, mf := range gather(t, c) {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[name] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

type echo struct{ protocol.Base }

func (e *echo) DataReceived(data []byte) {
	if string(data) == "abort" {
		e.Transport().AbortConnection()
		return
	}
	e.Transport().Write(data)
}

// TestCollectorReactor counts what a real reactor did: N connections, M
// bytes each way, K aborts.
func TestCollectorReactor(t *testing.T) {
	r := reactor.New(reactor.WithLoops(2))
	p, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &echo{} }))
	if err != nil {
		t.Fatal(err)
	}
	reactortest.Run(t, r)

	const n, k, msg = 6, 2, "0123456789"
	for i := range n {
		c, err := net.DialTimeout("tcp", p.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if i < k {
			c.Write([]byte("abort"))
		} else {
			c.Write([]byte(msg))
			buf := make([]byte, len(msg))
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	c := whirlprom.New(r)
	want := map[string]float64{
		"whirl_loops{}":                                                           2,
		"whirl_connections_accepted_total{}":                                      n,
		"whirl_connections_open{}":                                                0,
		"whirl_received_bytes_total{}":                                            float64(k*len("abort") + (n-k)*len(msg)),
		"whirl_sent_bytes_total{}":                                                float64((n - k) * len(msg)),
		`whirl_connections_closed_total{class="aborted"}`:                         k,
		`whirl_connections_closed_total{class="done"}`:                            n - k,
		`whirl_port_connections_accepted_total{addr="` + p.Addr().String() + `"}`: n,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := values(t, c)
		ok := true
		for name, v := range want {
			ok = ok && got[name] == v
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics: %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Stop(ctx)
}
