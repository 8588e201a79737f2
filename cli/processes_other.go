//go:build !linux

package cli

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent-death
// signal: the children of a process killed with SIGKILL keep serving.
func setParentDeathSignal(*exec.Cmd) {}
