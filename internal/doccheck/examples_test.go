package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesAreCopyable copies the main.go of every example (and of the
// example clients under it) into a scratch module that depends on this
// checkout with a replace line, as a user who copies an example into a
// module of their own does, and builds them: an example's main.go must use
// whirl's public API only (no internal package).
func TestExamplesAreCopyable(t *testing.T) {
	root := repoRoot(t)
	var mains []string
	for _, pattern := range []string{"examples/*/main.go", "examples/*/*/main.go"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		mains = append(mains, m...)
	}
	if len(mains) == 0 {
		t.Fatal("no example main.go found")
	}
	files := make(map[string]string, len(mains))
	for _, path := range mains {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"github.com/whirl-go/whirl/internal/`) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s imports an internal package: a copy of it cannot build outside whirl", rel)
		}
		rel, _ := filepath.Rel(filepath.Join(root, "examples"), path)
		files[filepath.Join("copies", filepath.Dir(rel), "main.go")] = string(b)
	}
	buildInScratchModule(t, files)
}
