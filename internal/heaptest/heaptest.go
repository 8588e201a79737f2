// Package heaptest measures the heap a test holds: what the memory bounds
// of the relay and port-forwarding tests are checked against.
package heaptest

import (
	"runtime"
	"sync/atomic"
	"time"
)

// InUse returns the heap in use after a collection. Any goroutine.
func InUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// Watch samples the heap in use every 250 ms until the returned function is
// called; that function returns the peak growth over the first sample. Any
// goroutine; stop is called once.
func Watch() (stop func() int64) {
	base := InUse()
	var peak atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				if g := InUse() - base; g > peak.Load() {
					peak.Store(g)
				}
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return peak.Load()
	}
}
