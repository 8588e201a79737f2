//go:build linux

package main_test

import (
	"testing"

	"github.com/whirl-go/whirl/bench/harness"
	"github.com/whirl-go/whirl/bench/loadgen"
)

// TestSmokeGnetex runs the servers of gnet's examples and their whirl ports
// under their loads, checking correctness only: wrk for the HTTP servers
// (left out when wrk is not installed), the bench's clients for the simple
// protocol, push and WebSocket.
func TestSmokeGnetex(t *testing.T) {
	var kinds []string
	var scenarios []harness.Scenario
	_, werr := loadgen.WrkPath()
	for _, sc := range harness.GnetexScenarios() {
		switch sc.Name {
		case "http-wrk-8c-p16":
			if werr != nil {
				t.Logf("leaving out %s: %v", sc.Name, werr)
				continue
			}
		case "simpleproto-64B-10c", "push-10c-10ms", "websocket-64B-10c":
		default:
			continue
		}
		scenarios = append(scenarios, sc)
	}
	for i, k := range harness.GnetexServers() {
		if i < 2 && werr != nil {
			continue // the HTTP servers
		}
		kinds = append(kinds, k)
	}
	smoke(t, kinds, scenarios, "")
}
