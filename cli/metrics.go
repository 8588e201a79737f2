package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/whirlprom"
)

// metricsServer serves --metrics: /metrics (the reactor's counters through
// whirlprom, and the Go runtime's and the process's) and /debug/pprof/.
// net/http runs it on goroutines of its own, never on a reactor loop;
// scrapes read atomic counters only.
type metricsServer struct {
	log  zerolog.Logger
	ln   net.Listener
	srv  *http.Server
	once sync.Once
	done chan struct{} // closed when Serve returned
}

func newMetricsServer(ln net.Listener, log zerolog.Logger) *metricsServer {
	return &metricsServer{log: log, ln: ln, done: make(chan struct{})}
}

// metricsHandler returns the handler of the metrics server for r.
func metricsHandler(r *reactor.Reactor) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		whirlprom.New(r),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<html><body><a href="/metrics">/metrics</a><br><a href="/debug/pprof/">/debug/pprof/</a></body></html>`))
	})
	return mux
}

// serve starts serving r's metrics, on a goroutine of its own.
func (m *metricsServer) serve(r *reactor.Reactor) {
	m.srv = &http.Server{
		Handler:           metricsHandler(r),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error().Err(err).Stringer("addr", m.ln.Addr()).Msg("metrics server failed")
		}
	}()
}

// addr returns the bound address.
func (m *metricsServer) addr() net.Addr { return m.ln.Addr() }

// close stops the server, letting a scrape in progress finish for up to a
// second, and closes its listener. It may be called more than once.
func (m *metricsServer) close() {
	m.once.Do(func() {
		if m.srv == nil {
			m.ln.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if m.srv.Shutdown(ctx) != nil {
			m.srv.Close()
		}
		<-m.done
	})
}
