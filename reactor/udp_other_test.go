//go:build !linux

package reactor

import "testing"

// roundTripRaw has nothing to check where the raw forms are not used.
func roundTripRaw(t *testing.T, fam int, k udpKey) {}
