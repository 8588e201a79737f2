//go:build !linux

package main

// pinLoad does nothing where the CPU affinity is not set.
func pinLoad() {}
