package harness

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Machine describes where a report was made.
type Machine struct {
	CPU       string `json:"cpu"`
	NumCPU    int    `json:"num_cpu"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel"`
	Gnet      string `json:"gnet"`
	// Python maps each Python module used to its version.
	Python map[string]string `json:"python,omitempty"`
	// Interpreter is the Python interpreter, if any server used it.
	Interpreter string `json:"interpreter,omitempty"`
	// LoadStart and LoadEnd are /proc/loadavg when the run started and
	// ended: a high load means other processes competed for the CPUs.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end,omitempty"`
}

// loadAvg returns the 1, 5 and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func describeMachine(cfg Config) Machine {
	m := Machine{
		CPU:       "unknown",
		NumCPU:    onlineCPUs(),
		GoVersion: runtime.Version(),
		Kernel:    "unknown",
		Gnet:      "unknown",
		Python:    map[string]string{},
		LoadStart: loadAvg(),
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/panjf2000/gnet/v2" {
				m.Gnet = d.Version
			}
		}
	}
	if cfg.Python != "" {
		m.Interpreter = cfg.Python
	}
	return m
}

// onlineCPUs counts the machine's processors, whatever this process is
// pinned to.
func onlineCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "processor" {
			n++
		}
	}
	if n == 0 {
		return runtime.NumCPU()
	}
	return n
}
