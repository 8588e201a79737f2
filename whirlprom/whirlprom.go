package whirlprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whirl-go/whirl/reactor"
)

// Source is what a Collector reads: a *reactor.Reactor, or anything else
// that returns reactor.Stats (a test's fixed values, a sum over reactors).
type Source interface {
	// Stats returns the current counters. Any goroutine; it must not block
	// for long, since a scrape waits for it.
	Stats() reactor.Stats
}

// Option configures a Collector.
type Option func(*options)

type options struct {
	labels prometheus.Labels
}

// WithConstLabels adds labels with fixed values to every metric, to tell
// apart several reactors registered with one registry (for example
// {"server": "chat"}). Any goroutine.
func WithConstLabels(l prometheus.Labels) Option {
	return func(o *options) { o.labels = l }
}

// Collector is a prometheus.Collector over a Source's Stats. Make it with
// New.
type Collector struct {
	src Source

	loops, open, accepted, connected, refused, closed *prometheus.Desc
	bytesIn, bytesOut, paused, buffered               *prometheus.Desc
	acceptErrors, portAccepted, portAcceptErrors      *prometheus.Desc
	queueDelay                                        *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector over src, typically a *reactor.Reactor; register
// it with a prometheus.Registerer. Any goroutine.
func New(src Source, opts ...Option) *Collector {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("whirl_"+name, help, labels, o.labels)
	}
	return &Collector{
		src:              src,
		loops:            desc("loops", "Event loops of the reactor."),
		open:             desc("connections_open", "Connections open now, accepted or connected."),
		accepted:         desc("connections_accepted_total", "Connections accepted on the reactor's ports."),
		connected:        desc("connections_connected_total", "Outbound connections made by the reactor's connectors."),
		refused:          desc("connections_refused_total", "Connections closed at once because the factory or a policy returned no protocol (connection limits, for one)."),
		closed:           desc("connections_closed_total", "Connections closed, by class of reason.", "class"),
		bytesIn:          desc("received_bytes_total", "Bytes read from the reactor's connections."),
		bytesOut:         desc("sent_bytes_total", "Bytes written to the reactor's connections."),
		paused:           desc("connections_paused", "Connections whose reading is paused now (flow control)."),
		buffered:         desc("output_buffered_bytes", "Output bytes the kernel refused, held by the reactor now."),
		acceptErrors:     desc("accept_errors_total", "Failed accepts (EMFILE and the like) on every port, stopped ones included."),
		portAccepted:     desc("port_connections_accepted_total", "Connections accepted, per listening port.", "addr"),
		portAcceptErrors: desc("port_accept_errors_total", "Failed accepts, per listening port.", "addr"),
		queueDelay:       desc("loop_queue_delay_seconds", "How long work handed to a loop from another goroutine waited before it ran, sampled every 250 ms per loop."),
	}
}

// Describe sends the descriptions of every metric. Any goroutine.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.loops, c.open, c.accepted, c.connected, c.refused, c.closed,
		c.bytesIn, c.bytesOut, c.paused, c.buffered,
		c.acceptErrors, c.portAccepted, c.portAcceptErrors, c.queueDelay,
	} {
		ch <- d
	}
}

// Collect reads the source's Stats once and sends every metric. Any
// goroutine.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.loops, int64(s.Loops))
	gauge(c.open, s.ConnsOpen)
	counter(c.accepted, s.Accepted)
	counter(c.connected, s.Connected)
	counter(c.refused, s.Refused)
	for _, class := range reactor.CloseClasses() {
		counter(c.closed, s.Closed[class], class.String())
	}
	counter(c.bytesIn, s.BytesIn)
	counter(c.bytesOut, s.BytesOut)
	gauge(c.paused, s.Paused)
	gauge(c.buffered, s.Buffered)
	counter(c.acceptErrors, s.AcceptErrors)
	// Two ports on one address (reuseport) make one series.
	type port struct{ accepted, errors int64 }
	var addrs []string
	ports := make(map[string]*port, len(s.Ports))
	for _, ps := range s.Ports {
		p := ports[ps.Addr]
		if p == nil {
			p = &port{}
			ports[ps.Addr] = p
			addrs = append(addrs, ps.Addr)
		}
		p.accepted += ps.Accepted
		p.errors += ps.AcceptErrors
	}
	for _, addr := range addrs {
		counter(c.portAccepted, ports[addr].accepted, addr)
		counter(c.portAcceptErrors, ports[addr].errors, addr)
	}
	ch <- queueDelay(c.queueDelay, s.QueueDelay)
}

// queueDelay converts the reactor's histogram (per-bucket counts, the last
// one unbounded) to Prometheus's (cumulative counts per upper bound, in
// seconds; +Inf is the total count).
func queueDelay(d *prometheus.Desc, h reactor.DelayHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += uint64(max(h.Counts[i], 0))
		}
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, uint64(max(h.Count, 0)), h.Sum.Seconds(), buckets)
}
