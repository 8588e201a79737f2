// Package harness runs whirl's benchmark matrix: every server under every
// scenario, round after round, each cell in a fresh server process and a
// fresh load-generator process, optionally pinned to separate CPUs with
// taskset. It reads the server's CPU time and resident memory from /proc
// (and a Go server's allocation count from the server itself), and reports
// medians, ranges, each server's ratio to raw gnet and issue 3's targets as
// a Markdown table, JSON and an SVG chart.
//
// The bench command (bench/main.go) is a thin wrapper around [Main]; the
// smoke test runs the same code through its own test binary.
//
// # Goroutines
//
// The exported functions may be called from any goroutine; a [Report] is
// not safe for concurrent modification.
package harness
