//go:build linux

package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// serverMemory is the server-side measurement shared by both modes.
type serverMemory struct {
	// IdleRSS is the server's resident memory before the test.
	IdleRSS int64 `json:"idle_rss"`
	// PeakRSS is the largest resident memory sampled during the test
	// (every SampleEvery); PeakHWM is the kernel's own peak (VmHWM), which
	// also covers the time between samples and the start-up.
	PeakRSS int64 `json:"peak_rss"`
	PeakHWM int64 `json:"peak_hwm"`
	// LoadRSS is the peak during the load phase (the flood, or the stuck
	// connections held), before any read-back.
	LoadRSS int64 `json:"load_peak_rss"`
	// Growth is PeakRSS - IdleRSS: the figure the bound is about.
	Growth int64 `json:"growth"`
	// Samples is how many RSS samples were taken, SampleEvery how often.
	Samples     int    `json:"samples"`
	SampleEvery string `json:"sample_every"`
	// HeapMB is the largest Go heap at the start of a GC cycle during the
	// whole run (gctrace, MB resolution), GCs the number of cycles.
	HeapMB int `json:"gc_heap_peak_mb"`
	GCs    int `json:"gcs"`
	// CloseReasons counts the reasons the server logged for connections it
	// closed; Warnings counts its warning and error messages.
	CloseReasons map[string]int `json:"server_close_reasons"`
	Warnings     map[string]int `json:"server_warnings"`
	// ServerExit is how the server ended after SIGTERM.
	ServerExit string `json:"server_exit"`
	// Profile is the heap profile saved at the end of the load phase (with
	// -profile).
	Profile string `json:"heap_profile,omitempty"`
	// CPUs is the number of CPUs; LoadStart and LoadEnd are the machine's
	// one-minute load average before and after the test (a busy machine
	// makes latencies worse).
	CPUs      int     `json:"cpus"`
	LoadStart float64 `json:"loadavg_start"`
	LoadEnd   float64 `json:"loadavg_end"`
}

// loadAvg returns the one-minute load average, or -1.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// finishMemory stops sampling and the server and gathers what both tell.
func finishMemory(srv *server, smp *sampler, idle, load int64, every time.Duration) serverMemory {
	m := serverMemory{IdleRSS: idle, LoadRSS: load, SampleEvery: every.String(), CPUs: runtime.NumCPU(), LoadStart: smp.loadStart, LoadEnd: loadAvg()}
	m.PeakHWM = hwm(srv.pid)
	var err error
	m.PeakRSS, m.Samples, err = smp.finish()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak: sampling:", err)
	}
	m.Growth = m.PeakRSS - idle
	m.HeapMB, m.GCs = srv.gcHeap()
	m.CloseReasons = srv.closeReasons()
	m.Warnings = srv.warnings()
	if err := srv.stop(15 * time.Second); err != nil {
		m.ServerExit = err.Error()
	} else {
		m.ServerExit = "graceful"
	}
	return m
}
