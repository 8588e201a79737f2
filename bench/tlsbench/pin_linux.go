package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
)

// pinLoad runs this process (the load) again off CPU 0, the servers', with
// taskset, unless it already runs so or taskset is missing.
func pinLoad() {
	if os.Getenv("TLSBENCH_PINNED") != "" {
		return
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	cmd := exec.Command(taskset, append([]string{"-c", "1-" + strconv.Itoa(runtime.NumCPU()-1), self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), "TLSBENCH_PINNED=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		os.Exit(1)
	}
	os.Exit(0)
}
