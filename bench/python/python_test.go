package python_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/whirl-go/whirl/bench/python"
)

func TestScripts(t *testing.T) {
	dir := t.TempDir()
	if err := python.WriteScripts(dir); err != nil {
		t.Fatal(err)
	}
	for _, s := range python.Servers {
		t.Run(s.Kind, func(t *testing.T) {
			got, ok := python.Lookup(s.Kind)
			if !ok || got != s {
				t.Fatalf("Lookup(%q) = %+v, %v", s.Kind, got, ok)
			}
			src, err := s.Source()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"LISTENING", "--port", "--backlog", "from " + s.Module, "sys.stdin"} {
				if !bytes.Contains(src, []byte(want)) {
					t.Errorf("%s does not contain %q", s.Script, want)
				}
			}
			written, err := os.ReadFile(filepath.Join(dir, s.Script))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(written, src) {
				t.Errorf("WriteScripts wrote a different %s", s.Script)
			}
		})
	}
	if _, ok := python.Lookup("python-django"); ok {
		t.Error(`Lookup("python-django") found a server`)
	}
}

func TestVersionMissingInterpreter(t *testing.T) {
	s := python.Servers[0]
	if v, err := s.Version(t.Context(), filepath.Join(t.TempDir(), "no-python")); err == nil {
		t.Errorf("Version with no interpreter = %q, nil; want an error", v)
	}
}
