// Package whirlprom exports a reactor's counters ([reactor.Reactor.Stats])
// to Prometheus: [New] returns a [prometheus.Collector] that reads the
// counters when it is scraped, so nothing is recorded twice and the reactor
// pays nothing between scrapes. It lives in a package of its own so that the
// reactor does not depend on the Prometheus client.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(whirlprom.New(r))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The metrics, all prefixed "whirl_" (docs/operations.md explains each):
//
//	whirl_loops                                 gauge
//	whirl_connections_open                      gauge
//	whirl_connections_accepted_total            counter
//	whirl_connections_connected_total           counter
//	whirl_connections_refused_total             counter
//	whirl_connections_closed_total{class}       counter
//	whirl_received_bytes_total                  counter
//	whirl_sent_bytes_total                      counter
//	whirl_connections_paused                    gauge
//	whirl_output_buffered_bytes                 gauge
//	whirl_accept_errors_total                   counter
//	whirl_port_connections_accepted_total{addr} counter
//	whirl_port_accept_errors_total{addr}        counter
//	whirl_loop_queue_delay_seconds              histogram
//
// # Goroutines
//
// A Collector may be used from any goroutine, as the Prometheus registry
// does (it collects concurrently). Collecting never waits for a loop.
package whirlprom
