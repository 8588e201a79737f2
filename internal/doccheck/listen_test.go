package doccheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestExampleListenDefaults builds every example command and checks that
// the --listen default its -h prints is the one its doc comment's usage line
// gives: `go run ./examples/NAME` must listen where its README and doc say.
func TestExampleListenDefaults(t *testing.T) {
	root := repoRoot(t)
	mains, err := filepath.Glob(filepath.Join(root, "examples", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no example main.go found (%v)", err)
	}
	bin := t.TempDir()
	build := exec.Command(goTool(t), "build", "-o", bin+string(filepath.Separator), "./examples/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", err, out)
	}
	documented := regexp.MustCompile(`(?m)^//\s+\S+ .*\[--listen ([^\]\s]+)\]`)
	printed := regexp.MustCompile(`(?s)-listen [^\n]*\n[^\n]*\(default "([^"]*)"\)`)
	checked := 0
	for _, path := range mains {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := documented.FindSubmatch(src)
		if m == nil {
			continue // no --listen (a client)
		}
		name := filepath.Base(filepath.Dir(path))
		var out bytes.Buffer
		cmd := exec.Command(filepath.Join(bin, name), "-h")
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run() // -h exits 0 or 2 depending on the flag package's use
		p := printed.FindSubmatch(out.Bytes())
		if p == nil {
			t.Errorf("examples/%s -h prints no --listen default:\n%s", name, out.String())
			continue
		}
		if string(p[1]) != string(m[1]) {
			t.Errorf("examples/%s listens on %q by default; its doc comment says %q", name, p[1], m[1])
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no example with a documented --listen")
	}
}
