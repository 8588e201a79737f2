//go:build !race

package policies_test

import (
	"io"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/policies"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// TestWrapperAllocs checks that a wrapper adds no allocation to
// DataReceived → Write, whatever the policy.
func TestWrapperAllocs(t *testing.T) {
	quiet := zerolog.New(io.Discard).Level(zerolog.InfoLevel)
	tests := []struct {
		name string
		wrap func(factory.Factory) *policies.WrappingFactory
	}{
		{"plain", func(f factory.Factory) *policies.WrappingFactory { return policies.NewWrappingFactory(f, nil) }},
		{"timeout", func(f factory.Factory) *policies.WrappingFactory { return policies.TimeoutFactory(f, time.Minute) }},
		{"total", func(f factory.Factory) *policies.WrappingFactory { return policies.LimitTotalConnections(f, 10, nil) }},
		{"peer", func(f factory.Factory) *policies.WrappingFactory { return policies.LimitConnectionsByPeer(f, 10) }},
		{"throttle", func(f factory.Factory) *policies.WrappingFactory {
			return policies.ThrottlingFactory(f, policies.ThrottlingOptions{ReadLimit: 1 << 62, WriteLimit: 1 << 62})
		}},
		{"logging above debug", func(f factory.Factory) *policies.WrappingFactory { return policies.TrafficLogging(f, quiet, 0) }},
	}
	msg := []byte("hello, whirl")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transporttest.New()
			w, _ := connect(t, tt.wrap(factory.ForProtocol(newEcho)), tr)
			allocs := testing.AllocsPerRun(100, func() {
				w.DataReceived(msg)
				tr.Clear()
			})
			if allocs != 0 {
				t.Errorf("DataReceived → Write through the wrapper: %v allocations, want 0", allocs)
			}
		})
	}
}
