// Package harness runs whirl's benchmark matrix: every server under every
// scenario, round after round, each cell in a fresh server process and a
// fresh load-generator process, optionally pinned to separate CPUs with
// taskset. It reads the server's CPU time and resident memory from /proc
// (and a Go server's allocation count from the server itself), and reports
// medians, ranges, each server's ratio to raw gnet and issue 3's targets as
// a Markdown table, JSON and an SVG chart.
//
// The load generator of the echo scenarios is the goroutine-per-connection
// client by default, or whirl's own client (Config.Client). [RunClients]
// (`bench clients`) runs each server with each client in turn and compares
// the clients' own CPU time per message, which each client process measures
// over its window.
//
// The bench command (bench/main.go) is a thin wrapper around [Main]; the
// smoke test runs the same code through its own test binary.
//
// # Other systems
//
// The measurements are Linux only: on other systems the package builds, but
// reading a server's CPU time and memory fails (there is no /proc), so every
// cell of a run fails with that error; bench report, the server and client
// subcommands work. Pinning needs taskset, which only Linux has: the "auto"
// CPU lists pin nothing without it, and an explicit list fails to start.
// The machine description falls back to runtime.NumCPU and "unknown".
//
// # Goroutines
//
// The exported functions may be called from any goroutine; a [Report] is
// not safe for concurrent modification.
package harness
