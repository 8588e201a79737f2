package harness_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
)

// TestUnixScenarios checks the UNIX scenarios are the TCP echo's shapes,
// run by the UNIX servers only.
func TestUnixScenarios(t *testing.T) {
	tcp := map[string]harness.Scenario{}
	for _, sc := range harness.DefaultScenarios() {
		tcp[sc.Name] = sc
	}
	scs := harness.UnixScenarios()
	if len(scs) != 2 {
		t.Fatalf("%d UNIX scenarios, want 2", len(scs))
	}
	for _, sc := range scs {
		twin, ok := tcp[strings.TrimPrefix(sc.Name, "unix-")]
		if !ok {
			t.Errorf("%s: no TCP scenario of that shape", sc.Name)
			continue
		}
		if sc.Mode != harness.ModeEcho || sc.Network != harness.NetworkUnix ||
			sc.Conns != twin.Conns || sc.Size != twin.Size || sc.Depth != twin.Depth {
			t.Errorf("%+v is not the UNIX twin of %+v", sc, twin)
		}
		for _, k := range harness.UnixServers() {
			if !harness.Fits(sc, k) {
				t.Errorf("%s does not run %s", sc.Name, k)
			}
			if harness.Fits(twin, k) {
				t.Errorf("TCP scenario %s runs %s", twin.Name, k)
			}
		}
		for _, k := range []string{servers.Gnet, servers.Whirl, servers.GnetUDP, servers.GnetHTTP} {
			if harness.Fits(sc, k) {
				t.Errorf("%s runs %s", sc.Name, k)
			}
		}
	}
}

// TestUnixTargets checks whirl-unix is taken against gnet-unix and gets the
// rows of gnet's example ports (≥ 0.95× msgs/s, ≤ 1.05× CPU per message, no
// allocations), and the TCP rows stay as they were.
func TestUnixTargets(t *testing.T) {
	upp, upipe := harness.UnixScenarios()[0], harness.UnixScenarios()[1]
	rep := testReport()
	rep.Servers = append(rep.Servers, servers.GnetUnix, servers.WhirlUnix)
	rep.Scenarios = append(rep.Scenarios, upp, upipe)
	rep.Cells = append(rep.Cells,
		&harness.Cell{Scenario: upp.Name, Server: servers.GnetUnix, Rounds: []harness.Round{echoRound(200e3, 0)}},
		&harness.Cell{Scenario: upp.Name, Server: servers.WhirlUnix, Rounds: []harness.Round{withCPU(echoRound(196e3, 0), 4)}},
		&harness.Cell{Scenario: upipe.Name, Server: servers.GnetUnix, Rounds: []harness.Round{echoRound(400e3, 0)}},
		&harness.Cell{Scenario: upipe.Name, Server: servers.WhirlUnix, Rounds: []harness.Round{echoRound(300e3, 3000)}},
	)
	harness.Summarize(rep)
	if r := rep.Cell(upp.Name, servers.WhirlUnix).Summary.Ratio; r == nil || !near(r.Median, 0.98) {
		t.Errorf("whirl-unix ratio = %+v, want 0.98 (against gnet-unix)", r)
	}
	want := map[string]bool{
		"whirl-unix msgs/s ÷ gnet's, " + upp.Title:                       true,  // 0.98 ≥ 0.95
		"whirl-unix server CPU per message ÷ gnet's, " + upp.Title:       true,  // 4 µs against 5
		"whirl-unix server heap allocations per message, " + upp.Title:   true,  // 0
		"whirl-unix msgs/s ÷ gnet's, " + upipe.Title:                     false, // 0.75 < 0.95
		"whirl-unix server CPU per message ÷ gnet's, " + upipe.Title:     true,  // 5 µs against 5
		"whirl-unix server heap allocations per message, " + upipe.Title: false, // 0.01
		"whirl echo msgs/s ÷ gnet's, 64 B ping-pong":                     true,  // the TCP rows, unchanged
		"whirl echo server CPU per message ÷ gnet's, 64 B ping-pong":     false,
	}
	seen := map[string]int{}
	for _, tg := range rep.Targets {
		seen[tg.What]++
		if met, ok := want[tg.What]; ok && tg.Met != met {
			t.Errorf("target %q: Met = %v (got %.3f), want %v", tg.What, tg.Met, tg.Got, met)
		}
		if strings.Contains(tg.What, "whirl-unix") && !strings.HasPrefix(tg.What, "whirl-unix ") {
			t.Errorf("unexpected row %q", tg.What)
		}
	}
	for what := range want {
		if seen[what] != 1 {
			t.Errorf("target %q appears %d times, want once", what, seen[what])
		}
	}
	var unixRows int
	for what, n := range seen {
		if strings.HasPrefix(what, "whirl-unix") {
			unixRows += n
		}
	}
	if unixRows != 6 {
		t.Errorf("%d whirl-unix target rows, want 6 (3 per scenario)", unixRows)
	}
}

// TestUnixServerChild runs `bench server --kind K --listen unix:PATH` in
// this process: it reports unix:PATH on its LISTENING line, echoes there,
// and stops when its standard input closes.
func TestUnixServerChild(t *testing.T) {
	for _, kind := range harness.UnixServers() {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.sock")
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			var errb bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- harness.Main(t.Context(), harness.Command{Path: os.Args[0]},
					[]string{"server", "--kind", kind, "--listen", servers.UnixPrefix + path, "--loops", "1"}, inR, outW, &errb)
				outW.Close()
			}()
			line, err := bufio.NewReader(outR).ReadString('\n')
			if err != nil {
				t.Fatalf("no LISTENING line: %v", err)
			}
			if got, want := strings.TrimSpace(line), "LISTENING "+loadgen.UnixAddr(path); got != want {
				t.Fatalf("server printed %q, want %q", got, want)
			}
			go io.Copy(io.Discard, outR)
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			msg := []byte("ping\r\n")
			buf := make([]byte, len(msg))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
				t.Fatalf("echo %q, %v", buf, err)
			}
			c.Close()
			inW.Close()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("server exited %d: %s", code, errb.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatal("server still running 15 s after its standard input closed")
			}
		})
	}
}

// TestUnixServerChildNeedsPath checks a UNIX server child given a TCP
// address fails rather than making a socket file of it.
func TestUnixServerChildNeedsPath(t *testing.T) {
	var out, errb bytes.Buffer
	code := harness.Main(t.Context(), harness.Command{Path: os.Args[0]},
		[]string{"server", "--kind", servers.WhirlUnix, "--listen", "127.0.0.1:0"}, strings.NewReader(""), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "unix:PATH") {
		t.Errorf("exit %d, stderr %q; want 1 and the unix:PATH form", code, errb.String())
	}
}

// TestUDPTargets checks the UDP echo family gets the rows of gnet's example
// ports too (udpecho is the port of gnet's echo_udp): whirl-udp against
// gnet-udp, with its allocations.
func TestUDPTargets(t *testing.T) {
	sc := harness.UDPScenarios()[0]
	rep := &harness.Report{
		Servers:   []string{servers.GnetUDP, servers.WhirlUDP},
		Scenarios: []harness.Scenario{sc},
		Cells: []*harness.Cell{
			{Scenario: sc.Name, Server: servers.GnetUDP, Rounds: []harness.Round{echoRound(100e3, 500e3)}},
			{Scenario: sc.Name, Server: servers.WhirlUDP, Rounds: []harness.Round{withCPU(echoRound(120e3, 0), 4)}},
		},
	}
	harness.Summarize(rep)
	want := map[string]bool{
		"whirl-udp msgs/s ÷ gnet's, " + sc.Title:                     true, // 1.2
		"whirl-udp server CPU per message ÷ gnet's, " + sc.Title:     true, // 4 µs against 5
		"whirl-udp server heap allocations per message, " + sc.Title: true, // 0
	}
	got := map[string]bool{}
	for _, tg := range rep.Targets {
		got[tg.What] = tg.Met
	}
	for what, met := range want {
		if m, ok := got[what]; !ok || m != met {
			t.Errorf("target %q: present %v, met %v; want met %v (targets %v)", what, ok, m, met, rep.Targets)
		}
	}
}
