//go:build !linux

package main

import (
	"fmt"
	"os"
)

// The soak tool is Linux only: it samples the server's memory from
// /proc/PID/status and kills the server with the parent-death signal
// (SysProcAttr.Pdeathsig) if the tool dies. Elsewhere it builds, so that the
// module vets and builds on every system whirl supports, and exits with
// status 1 ("could not run").
func main() {
	fmt.Fprintln(os.Stderr, "soak: Linux only (it reads the server's memory from /proc)")
	os.Exit(1)
}
