package whirlprom_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/whirlprom"
)

// exampleEcho writes back what it receives.
type exampleEcho struct{ protocol.Base }

func (e *exampleEcho) DataReceived(data []byte) { _, _ = e.Transport().Write(data) }

// A reactor's counters in a Prometheus registry, gathered after one echo.
// A server would serve the registry with promhttp.HandlerFor instead.
func Example() {
	r := reactor.New(reactor.WithLoops(1))
	reg := prometheus.NewRegistry()
	reg.MustRegister(whirlprom.New(r))

	port, err := r.ListenTCP("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &exampleEcho{} }))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()

	c, err := net.DialTimeout("tcp", port.Addr().String(), 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "hello"); err != nil {
		log.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, len("hello"))); err != nil {
		log.Fatal(err)
	}
	c.Close()

	// Stopped, the reactor's counters no longer move: the values printed
	// do not depend on when the loop saw the client's close.
	cancel()
	if err := <-stopped; err != nil {
		log.Fatal(err)
	}
	families, err := reg.Gather() // what a scrape does
	if err != nil {
		log.Fatal(err)
	}
	show := []string{
		"whirl_connections_accepted_total", "whirl_connections_open",
		"whirl_received_bytes_total", "whirl_sent_bytes_total",
	}
	for _, mf := range families { // sorted by name
		if !slices.Contains(show, mf.GetName()) {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				fmt.Println(mf.GetName(), m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				fmt.Println(mf.GetName(), m.GetGauge().GetValue())
			}
		}
	}
	// Output:
	// whirl_connections_accepted_total 1
	// whirl_connections_open 0
	// whirl_received_bytes_total 5
	// whirl_sent_bytes_total 5
}
