// Command tlsbench compares whirl's TLS (crypto/tls driven from the loop,
// package tlsproto) with Go's crypto/tls + net, a goroutine per connection:
// echo throughput, full handshakes per second, and the resident memory of
// idle TLS connections.
//
// Usage, from the module's root (Linux: it reads /proc):
//
//	go run ./bench/tlsbench                      # every measurement, about a minute
//	go run ./bench/tlsbench -duration 10s -idle 10000 -rounds 3
//
// Each server runs in a child process of its own (this program with
// -serve), on one CPU (GOMAXPROCS=1, pinned with taskset when it exists;
// whirl with one loop), and the load runs in this process, pinned to the
// other CPUs. Certificates are made afresh in memory (ECDSA P-256);
// clients do full handshakes (no session resumption). The output is a
// table with the ratio whirl / goroutine server per measurement.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/internal/tlstest"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
)

func main() {
	serve := flag.String("serve", "", "run a server: whirl or goroutine (internal)")
	certDir := flag.String("certs", "", "certificate directory (internal)")
	duration := flag.Duration("duration", 5*time.Second, "length of each throughput and handshake run")
	conns := flag.Int("conns", 50, "connections of the throughput run")
	size := flag.Int("size", 4096, "message size of the throughput run")
	hsClients := flag.Int("hsclients", 32, "concurrent clients of the handshake run")
	idle := flag.Int("idle", 5000, "idle connections of the memory run")
	rounds := flag.Int("rounds", 3, "rounds of each measurement (the median is reported)")
	versions := flag.String("versions", "1.3,1.2", "TLS versions to measure")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve, *certDir); err != nil {
			fmt.Fprintln(os.Stderr, "tlsbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*duration, *conns, *size, *hsClients, *idle, *rounds, *versions); err != nil {
		fmt.Fprintln(os.Stderr, "tlsbench:", err)
		os.Exit(1)
	}
}

// ---- servers ----

type echo struct{ protocol.Base }

func (e *echo) DataReceived(data []byte) { e.Transport().Write(data) }

func runServer(impl, dir string) error {
	cert, err := tls.LoadX509KeyPair(dir+"/server.pem", dir+"/server.key")
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	var addr net.Addr
	switch impl {
	case "whirl":
		r := reactor.New(reactor.WithLoops(1))
		p, err := r.ListenTLS("127.0.0.1:0", factory.ForProtocol(func() protocol.Protocol { return &echo{} }), cfg, reactor.WithBacklog(4096))
		if err != nil {
			return err
		}
		addr = p.Addr()
		go r.Run(context.Background())
	case "goroutine":
		ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			return err
		}
		addr = ln.Addr()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 16<<10) // as io.Copy's
					for {
						n, err := c.Read(buf)
						if n > 0 {
							if _, err := c.Write(buf[:n]); err != nil {
								return
							}
						}
						if err != nil {
							return
						}
					}
				}()
			}
		}()
	default:
		return fmt.Errorf("unknown server %q", impl)
	}
	fmt.Println(addr.String())
	// Commands on stdin: "gc" returns freed memory to the system, so the
	// memory run reads what the connections hold.
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "gc" {
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("ok")
		}
	}
	return nil
}

// server is a running child server.
type server struct {
	cmd  *exec.Cmd
	addr string
	in   io.WriteCloser
	out  *bufio.Reader
}

func startServer(impl, dir string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{self, "-serve", impl, "-certs", dir}
	if p, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{p, "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, in: in, out: bufio.NewReader(outp)}
	line, err := s.out.ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%s server: %v", impl, err)
	}
	s.addr = strings.TrimSpace(line)
	return s, nil
}

func (s *server) gc() {
	io.WriteString(s.in, "gc\n")
	s.out.ReadString('\n')
}

// rss returns the server's resident memory in bytes.
func (s *server) rss() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// cpu returns the server's CPU time so far (user and system).
func (s *server) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

func (s *server) stop() {
	s.in.Close()
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// ---- load ----

func clientConfig(ver uint16) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, MinVersion: ver, MaxVersion: ver, ClientSessionCache: nil}
}

func dial(addr string, cfg *tls.Config) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
}

// throughput runs conns echo loops of size-byte messages for d and returns
// bytes echoed per second.
func throughput(addr string, ver uint16, conns, size int, d time.Duration) (float64, error) {
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	stop := time.Now().Add(d)
	for range conns {
		c, err := dial(addr, clientConfig(ver))
		if err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			msg := make([]byte, size)
			buf := make([]byte, size)
			for time.Now().Before(stop) {
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					errs <- err
					return
				}
				total.Add(int64(size))
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// handshakes runs clients loops of full handshakes (connect, handshake,
// one byte echoed, close) for d and returns handshakes per second.
func handshakes(addr string, ver uint16, clients int, d time.Duration) (float64, error) {
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	stop := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := []byte{'x'}
			for time.Now().Before(stop) {
				c, err := dial(addr, clientConfig(ver))
				if err != nil {
					errs <- err
					return
				}
				if _, err := c.Write(b); err == nil {
					_, err = io.ReadFull(c, b)
				}
				c.Close()
				if err != nil {
					errs <- err
					return
				}
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// idleMemory opens n TLS connections, each echoing one message, and
// returns the server's resident memory per connection.
func idleMemory(s *server, ver uint16, n int) (float64, error) {
	s.gc()
	before, err := s.rss()
	if err != nil {
		return 0, err
	}
	conns := make([]*tls.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	msg := []byte("hello, idle\n")
	buf := make([]byte, len(msg))
	for range n {
		c, err := dial(s.addr, clientConfig(ver))
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
		if _, err := c.Write(msg); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return 0, err
		}
	}
	time.Sleep(500 * time.Millisecond)
	s.gc()
	after, err := s.rss()
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

// ---- driver ----

type result struct {
	Measure string             `json:"measure"`
	Values  map[string]float64 `json:"values"`
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

func run(d time.Duration, conns, size, hsClients, idle, rounds int, versions string) error {
	dir, err := os.MkdirTemp("", "tlsbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	certs, err := tlstest.New()
	if err != nil {
		return err
	}
	if _, err := certs.WriteFiles(dir); err != nil {
		return err
	}
	// The load runs on the CPUs the servers do not use.
	if runtime.NumCPU() > 1 {
		pinLoad()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	impls := []string{"whirl", "goroutine"}
	var results []result
	for _, v := range strings.Split(versions, ",") {
		ver := map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[v]
		if ver == 0 {
			return fmt.Errorf("unknown version %q", v)
		}
		measures := []struct {
			name string
			fn   func(s *server) (float64, error)
		}{
			{fmt.Sprintf("TLS %s echo %d B x %d conns (MB/s)", v, size, conns), func(s *server) (float64, error) {
				bps, err := throughput(s.addr, ver, conns, size, d)
				return bps / 1e6, err
			}},
			{fmt.Sprintf("TLS %s server CPU per MB echoed (ms)", v), func(s *server) (float64, error) {
				c0 := s.cpu()
				start := time.Now()
				bps, err := throughput(s.addr, ver, conns, size, d)
				mb := bps * time.Since(start).Seconds() / 1e6
				return float64((s.cpu() - c0).Microseconds()) / 1000 / mb, err
			}},
			{fmt.Sprintf("TLS %s full handshakes/s (%d clients)", v, hsClients), func(s *server) (float64, error) {
				return handshakes(s.addr, ver, hsClients, d)
			}},
			{fmt.Sprintf("TLS %s server CPU per handshake (us)", v), func(s *server) (float64, error) {
				c0 := s.cpu()
				start := time.Now()
				rate, err := handshakes(s.addr, ver, hsClients, d)
				n := rate * time.Since(start).Seconds()
				return float64((s.cpu() - c0).Microseconds()) / n, err
			}},
			{fmt.Sprintf("TLS %s idle memory per conn, %d conns (KiB)", v, idle), func(s *server) (float64, error) {
				b, err := idleMemory(s, ver, idle)
				return b / 1024, err
			}},
		}
		for _, m := range measures {
			vals := map[string][]float64{}
			for range rounds {
				for _, impl := range impls {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					s, err := startServer(impl, dir)
					if err != nil {
						return err
					}
					x, err := m.fn(s)
					s.stop()
					if err != nil {
						return fmt.Errorf("%s, %s: %w", m.name, impl, err)
					}
					vals[impl] = append(vals[impl], x)
				}
			}
			r := result{Measure: m.name, Values: map[string]float64{}}
			for impl, xs := range vals {
				r.Values[impl] = median(xs)
			}
			results = append(results, r)
			fmt.Printf("%-50s whirl %10.1f  goroutine %10.1f  ratio %.2f   (rounds: whirl %v, goroutine %v)\n",
				m.name, r.Values["whirl"], r.Values["goroutine"], r.Values["whirl"]/r.Values["goroutine"], round1(vals["whirl"]), round1(vals["goroutine"]))
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

func round1(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return out
}
