package main

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketCount counts the sockets process pid holds (Linux's /proc), or -1.
func socketCount(pid int) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

func echoOnce(t *testing.T, addr, msg string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := readAll(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	return c
}

func readAll(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestProcesses runs "whirl echo --processes 2" on port 0: two processes
// share the port the first one got (SO_REUSEPORT), both take connections,
// one killed is restarted, and SIGTERM to the parent stops them all.
func TestProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	p := startWhirl(t, "echo", "--processes", "2", "--loops", "1", "--listen", "tcp:0:interface=127.0.0.1")
	var addr string
	for _, l := range p.waitLine("listening", 3, 20*time.Second) {
		if l["processes"] != nil {
			addr, _ = l["addr"].(string)
		}
	}
	if addr == "" {
		t.Fatalf("no listening line from the parent:\n%s", p.log())
	}
	var pids []int
	for _, l := range p.waitLine("process started", 2, time.Second) {
		pids = append(pids, int(l["pid"].(float64)))
	}
	before := []int{socketCount(pids[0]), socketCount(pids[1])}
	for i := range 16 {
		echoOnce(t, addr, "ping "+strconv.Itoa(i))
	}
	if before[0] >= 0 {
		for i, pid := range pids {
			if n := socketCount(pid); n <= before[i] {
				t.Errorf("process %d (pid %d) took none of 16 connections (%d sockets, %d before)", i, pid, n, before[i])
			}
		}
	}

	// A crashed process is started again and serves.
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.waitLine("process failed; restarting it", 1, 10*time.Second)
	started := p.waitLine("process started", 3, 10*time.Second)
	pids = append(pids, int(started[2]["pid"].(float64)))
	p.waitLine("listening", 4, 10*time.Second)
	for i := range 8 {
		echoOnce(t, addr, "again "+strconv.Itoa(i))
	}

	// SIGTERM to the parent stops every process gracefully.
	p.stop()
	if p.err != nil {
		t.Fatalf("parent exited with %v", p.err)
	}
	for _, pid := range pids[1:] {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still there after the parent stopped (%v)", pid, err)
		}
	}
}
