package harness

import (
	"context"
	"fmt"

	"github.com/whirl-go/whirl/bench/loadgen"
	"github.com/whirl-go/whirl/bench/servers"
	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
)

// The modes of the scenarios of gnet's examples: each runs the servers of
// its family (servers.Family) with the load tool their users run.
const (
	// ModeHTTP runs wrk with a pipelining script (loadgen.RunWrk).
	ModeHTTP = servers.FamilyHTTP
	// ModeSimpleProto keeps simple-protocol packets in flight
	// (loadgen.RunFramed with loadgen.SimpleProtoFraming).
	ModeSimpleProto = servers.FamilySimpleProto
	// ModePush reads the push servers' timestamp lines (loadgen.RunPush).
	ModePush = servers.FamilyPush
	// ModeWebSocket keeps WebSocket messages in flight (loadgen.RunFramed
	// with loadgen.WebSocketFraming).
	ModeWebSocket = servers.FamilyWebSocket
)

// GnetexScenarios are the loads of gnet's examples, run only when named
// (--scenarios), against the servers of their family. Any goroutine.
func GnetexScenarios() []Scenario {
	return []Scenario{
		{Name: "http-wrk-256c-p16", Title: "HTTP plaintext, wrk, 256 connections, 16 pipelined", Mode: ModeHTTP, Conns: 256, Depth: 16},
		{Name: "simpleproto-1KiB-100c-16deep", Title: "simple protocol, 1 KiB packets, 16 in flight, 100 connections", Mode: ModeSimpleProto, Conns: 100, Size: 1024, Depth: 16},
		{Name: "push-200c-10ms", Title: "push, a line every 10 ms to 200 connections", Mode: ModePush, Conns: 200, Size: 20},
		{Name: "push-1000c-10ms", Title: "push, a line every 10 ms to 1000 connections (saturates this machine)", Mode: ModePush, Conns: 1000, Size: 20},
		{Name: "websocket-1KiB-100c-8deep", Title: "WebSocket echo, 1 KiB binary messages, 8 in flight, 100 connections", Mode: ModeWebSocket, Conns: 100, Size: 1024, Depth: 8},
		// Small ones, for CI and quick checks.
		{Name: "http-wrk-8c-p16", Title: "HTTP plaintext, wrk, 8 connections, 16 pipelined", Mode: ModeHTTP, Conns: 8, Depth: 16},
		{Name: "simpleproto-64B-10c", Title: "simple protocol, 64 B packets, ping-pong, 10 connections", Mode: ModeSimpleProto, Conns: 10, Size: 64, Depth: 1},
		{Name: "push-10c-10ms", Title: "push, a line every 10 ms to 10 connections", Mode: ModePush, Conns: 10, Size: 20},
		{Name: "websocket-64B-10c", Title: "WebSocket echo, 64 B, ping-pong, 10 connections", Mode: ModeWebSocket, Conns: 10, Size: 64, Depth: 1},
	}
}

// GnetexServers lists the servers of gnet's examples, gnet's before
// whirl's. Any goroutine.
func GnetexServers() []string {
	return []string{
		servers.GnetHTTP, servers.WhirlHTTP,
		servers.GnetSimpleProto, servers.WhirlSimpleProto,
		servers.GnetPush, servers.WhirlPush,
		servers.GnetWebSocket, servers.WhirlWebSocket,
	}
}

func init() {
	for i, k := range GnetexServers() {
		if i%2 == 0 {
			serverColors[k] = "#4c78a8" // gnet's colour
		} else {
			serverColors[k] = "#f58518" // whirl's
		}
	}
}

// familyOf returns the server family scenario sc loads.
func familyOf(sc Scenario) string {
	switch sc.Mode {
	case ModeUDP:
		return servers.FamilyUDP
	case ModeHTTP, ModeSimpleProto, ModePush, ModeWebSocket:
		return sc.Mode
	}
	if sc.Network == NetworkUnix {
		return servers.FamilyUnix
	}
	return servers.FamilyEcho
}

// runGnetexClient runs the load of a gnetex mode; ok is false for another
// mode.
func runGnetexClient(ctx context.Context, mode string, cfg loadgen.Config) (res loadgen.Result, err error, ok bool) {
	switch mode {
	case ModeHTTP:
		res, err = loadgen.RunWrk(ctx, cfg, "/plaintext", httpplain.Body)
	case ModeSimpleProto:
		res, err = loadgen.RunFramed(ctx, cfg, loadgen.SimpleProtoFraming)
	case ModePush:
		res, err = loadgen.RunPush(ctx, cfg)
	case ModeWebSocket:
		res, err = loadgen.RunFramed(ctx, cfg, loadgen.WebSocketFraming)
	default:
		return res, nil, false
	}
	return res, err, true
}

// gnetexTargets are the goals of the ports of gnet's examples: each whirl
// port at ≥ 0.95× its gnet original's messages per second and ≤ 1.05× its
// server CPU per message; no allocation per request for httpplain and
// simpleproto.
func (rep *Report) gnetexTargets() []Target {
	var out []Target
	for _, sc := range rep.Scenarios {
		fam := familyOf(sc)
		if fam == servers.FamilyEcho {
			continue // checkTargets' echo rows
		}
		for _, k := range rep.Servers {
			c := rep.Cell(sc.Name, k)
			if k == servers.FamilyBaseline(fam) || c == nil || c.Summary == nil {
				continue
			}
			s := c.Summary
			if s.Ratio != nil {
				out = append(out, Target{What: fmt.Sprintf("%s msgs/s ÷ gnet's, %s", k, sc.Title), Want: "≥ 0.95", Got: s.Ratio.Median, Met: s.Ratio.Median >= 0.95})
			}
			if s.CPURatio != nil {
				out = append(out, Target{What: fmt.Sprintf("%s server CPU per message ÷ gnet's, %s", k, sc.Title), Want: "≤ 1.05", Got: *s.CPURatio, Met: *s.CPURatio <= 1.05})
			}
			if (k == servers.WhirlHTTP || k == servers.WhirlSimpleProto || k == servers.WhirlUnix || k == servers.WhirlUDP) && s.AllocsPerMsg != nil {
				a := *s.AllocsPerMsg
				out = append(out, Target{What: fmt.Sprintf("%s server heap allocations per message, %s", k, sc.Title), Want: "< 0.01", Got: a, Met: a < 0.01})
			}
		}
	}
	return out
}

// Fits reports whether server kind runs under scenario sc: the servers of
// the scenario's family. Any goroutine.
func Fits(sc Scenario, kind string) bool { return fits(sc, kind) }
