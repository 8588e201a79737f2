package doccheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// modulePath is whirl's module path, the one the scratch module replaces.
const modulePath = "github.com/whirl-go/whirl"

// repoRoot returns the directory of whirl's go.mod, found upwards from the
// test's working directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module\s+`+regexp.QuoteMeta(modulePath)+`\s*$`).Match(data) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// goTool returns the path of the go command, or skips the test when there
// is none: the only reason this package's tests skip.
func goTool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH: %v", err)
	}
	return path
}

// scratchModule writes a module in a fresh temporary directory that requires
// whirl, replaced by the checkout at root, with the checkout's own
// requirements and go.sum, so that a package importing whirl's packages and
// the standard library builds offline from the module cache the checkout
// uses. files maps slash-separated paths inside the module to their
// contents. It returns the module's directory.
func scratchModule(t testing.TB, root string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// The checkout's go.mod with another module line: its go version and its
	// requirements (a module at go 1.17 or later lists every module that
	// provides a package it builds), plus whirl itself.
	mod := regexp.MustCompile(`(?m)^module\s+.*$`).ReplaceAllString(string(gomod), "module whirl.doccheck/scratch")
	mod += fmt.Sprintf("\nrequire %s v0.0.0-00010101000000-000000000000\n\nreplace %s => %s\n", modulePath, modulePath, root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scratchBuild writes files into a scratch module (see scratchModule) and
// runs go build ./... then, if that passed, go vet ./... in it. It returns
// the output of the command that failed, with the paths of files of the
// checkout made relative to its root, and its error; nil when both passed.
func scratchBuild(t testing.TB, files map[string]string) (string, error) {
	t.Helper()
	goCmd := goTool(t)
	root := repoRoot(t)
	dir := scratchModule(t, root, files)
	// The go command prints a position with the shorter of its absolute and
	// relative paths; a file of the checkout is shown relative to its root.
	prefixes := []string{root + string(filepath.Separator)}
	if rel, err := filepath.Rel(dir, root); err == nil {
		prefixes = append(prefixes, rel+string(filepath.Separator))
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = dir
		// The scratch module stands alone: no workspace, no vendoring, and a
		// go.mod the command must not rewrite.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			msg := out.String()
			for _, p := range prefixes {
				msg = strings.ReplaceAll(msg, p, "")
			}
			return fmt.Sprintf("go %s (in %s): %s", strings.Join(args, " "), dir, msg), err
		}
	}
	return "", nil
}

// buildInScratchModule builds and vets files (module-relative paths to
// contents) as packages of a scratch module that depends on this checkout of
// whirl, and fails the test with the go command's output if they do not
// compile or vet cleanly. Errors in a file that carries //line directives
// name the positions those give.
func buildInScratchModule(t testing.TB, files map[string]string) {
	t.Helper()
	if out, err := scratchBuild(t, files); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
