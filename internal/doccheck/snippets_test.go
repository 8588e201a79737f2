package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docFiles are the Markdown files whose ```go blocks must compile, as globs
// relative to the repository root.
var docFiles = []string{"README.md", "docs/*.md", "examples/*/README.md"}

// importPaths maps the package names a wrapped snippet may use to their
// import paths. A snippet that uses a name missing here gets no import for
// it, and the compiler reports the name undefined at the snippet's line.
var importPaths = map[string]string{
	"bufio":   "bufio",
	"bytes":   "bytes",
	"context": "context",
	"errors":  "errors",
	"fmt":     "fmt",
	"io":      "io",
	"log":     "log",
	"net":     "net",
	"os":      "os",
	"runtime": "runtime",
	"signal":  "os/signal",
	"strings": "strings",
	"sync":    "sync",
	"syscall": "syscall",
	"time":    "time",

	"zerolog":    "github.com/rs/zerolog",
	"http":       "net/http",
	"tls":        "crypto/tls",
	"prometheus": "github.com/prometheus/client_golang/prometheus",
	"promhttp":   "github.com/prometheus/client_golang/prometheus/promhttp",

	"endpoint":      modulePath + "/endpoint",
	"haproxy":       modulePath + "/haproxy",
	"stream":        modulePath + "/stream",
	"tlsproto":      modulePath + "/tlsproto",
	"whirlprom":     modulePath + "/whirlprom",
	"factory":       modulePath + "/factory",
	"policies":      modulePath + "/policies",
	"protocol":      modulePath + "/protocol",
	"reactor":       modulePath + "/reactor",
	"reactortest":   modulePath + "/reactor/reactortest",
	"task":          modulePath + "/task",
	"transport":     modulePath + "/transport",
	"transporttest": modulePath + "/transport/transporttest",

	"chat":        modulePath + "/examples/chat/chat",
	"echo":        modulePath + "/examples/echo/echo",
	"framedecho":  modulePath + "/examples/framedecho/framedecho",
	"portforward": modulePath + "/examples/portforward/portforward",
	"reconnect":   modulePath + "/examples/reconnect/reconnect",
	"seedserver":  modulePath + "/examples/seedserver/seedserver",
	"tcpecho":     modulePath + "/examples/tcpecho/tcpecho",
	"relay":       modulePath + "/examples/relay/relay",
	"udpecho":     modulePath + "/examples/udpecho/udpecho",
}

// snippet is one ```go block of a Markdown file.
type snippet struct {
	file string // the Markdown file, absolute
	line int    // line of the block's first line of code in file, from 1
	code string // the block, its fence's indentation removed
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// extractSnippets returns the ```go blocks of the Markdown text of file, in
// order. A fence may be indented (in a list item); the block's lines lose
// that indentation.
func extractSnippets(file, text string) ([]snippet, error) {
	var (
		out    []snippet
		cur    *snippet
		indent string
		lines  []string
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```go") && strings.TrimSpace(trimmed[len("```go"):]) == "":
			cur = &snippet{file: file, line: n + 1}
			indent = line[:len(line)-len(trimmed)]
			lines = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(lines, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: ```go block not closed", cur)
	}
	return out, nil
}

// snippetForm is how a block is turned into a file.
type snippetForm int

const (
	formFile         snippetForm = iota // starts with its package clause
	formDeclarations                    // top-level declarations
	formStatements                      // statements, wrapped in a function
)

var packageClause = regexp.MustCompile(`(?m)\A(?:\s*//[^\n]*\n|\s*\n)*\s*package\s`)

// wrapSnippet returns the Go file that compiles s, and the form s was taken
// in: see the package documentation. A //line directive before the code
// makes positions in the file those of the Markdown.
func wrapSnippet(s snippet) (string, snippetForm, error) {
	directive := fmt.Sprintf("//line %s:%d:1\n", s.file, s.line)
	if packageClause.MatchString(s.code) {
		return directive + s.code, formFile, nil
	}
	fset := token.NewFileSet()
	declSrc := "package snippet\n" + directive + s.code
	f, declErr := parser.ParseFile(fset, "", declSrc, 0)
	if declErr == nil {
		name := "snippet"
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "main" {
				name = "main"
			}
		}
		return "package " + name + "\n\n" + importBlock(f) + directive + s.code, formDeclarations, nil
	}
	stmtSrc := "package snippet\nfunc _() {\n" + directive + s.code + "}\n"
	f, stmtErr := parser.ParseFile(fset, "", stmtSrc, 0)
	if stmtErr == nil {
		return "package snippet\n\n" + importBlock(f) + "func _() {\n" + directive + s.code + "}\n", formStatements, nil
	}
	return "", 0, fmt.Errorf("%s: neither a file, declarations nor statements:\n\tas declarations: %v\n\tas statements: %v", s, declErr, stmtErr)
}

// importBlock returns the import declaration of the package names f uses
// (X of an X.Sel whose X is declared nowhere in f) that importPaths knows
// and f does not import itself.
func importBlock(f *ast.File) string {
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		path := strings.Trim(spec.Path.Value, `"`)
		name := path[strings.LastIndex(path, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imported[name] = true
	}
	var paths []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		// The parser's object resolution is all this needs: is the name declared in the file?
		if !ok || id.Obj != nil || imported[id.Name] {
			return true
		}
		if path, ok := importPaths[id.Name]; ok && !slices.Contains(paths, path) {
			paths = append(paths, path)
		}
		return true
	})
	if len(paths) == 0 {
		return ""
	}
	slices.Sort(paths)
	var b strings.Builder
	b.WriteString("import (\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n\n")
	return b.String()
}

// snippetFiles wraps every block of snippets into a file of its own package
// of the scratch module: snippets/s<n>_<markdown path>_<line>/snippet.go (a
// directory starting with "_" would be left out of ./...).
func snippetFiles(t testing.TB, root string, snippets []snippet) map[string]string {
	t.Helper()
	clean := regexp.MustCompile(`[^A-Za-z0-9]+`)
	files := map[string]string{}
	for i, s := range snippets {
		src, _, err := wrapSnippet(s)
		if err != nil {
			t.Error(err)
			continue
		}
		rel, err := filepath.Rel(root, s.file)
		if err != nil {
			rel = s.file
		}
		files[fmt.Sprintf("snippets/s%d_%s_%d/snippet.go", i, clean.ReplaceAllString(rel, "_"), s.line)] = src
	}
	return files
}

// TestDocSnippetsCompile compiles and vets every ```go block of the
// documentation against this checkout.
func TestDocSnippetsCompile(t *testing.T) {
	goTool(t)
	root := repoRoot(t)
	var all []snippet
	perFile := map[string]int{}
	for _, glob := range docFiles {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(glob)))
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) == 0 {
			t.Errorf("no file matches %s", glob)
		}
		for _, path := range matches {
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := extractSnippets(path, string(text))
			if err != nil {
				t.Error(err)
				continue
			}
			rel, _ := filepath.Rel(root, path)
			perFile[filepath.ToSlash(rel)] = len(got)
			all = append(all, got...)
		}
	}
	// The README's first example is the one users copy: it must be there.
	if perFile["README.md"] == 0 {
		t.Fatalf("README.md has no ```go block")
	}
	files := snippetFiles(t, root, all)
	if t.Failed() {
		return
	}
	buildInScratchModule(t, files)
	t.Logf("%d snippets compiled and vetted: %v", len(all), perFile)
}

// TestBrokenSnippetNamesItsLine checks that a block that does not compile
// fails the build with its Markdown file and line, and that one that
// compiles in the same document does not hide it.
func TestBrokenSnippetNamesItsLine(t *testing.T) {
	goTool(t)
	root := repoRoot(t)
	md := filepath.Join(t.TempDir(), "broken.md")
	text := "# Broken\n" + // 1
		"\n" + // 2
		"```go\n" + // 3
		"func ok() time.Duration { return time.Second }\n" + // 4
		"```\n" + // 5
		"\n" + // 6
		"```go\n" + // 7
		"r := reactor.New()\n" + // 8
		"r.ListenTCPP(\":0\", nil)\n" + // 9: no such method
		"```\n"
	snippets, err := extractSnippets(md, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(snippets) != 2 || snippets[0].line != 4 || snippets[1].line != 8 {
		t.Fatalf("extracted %v, want blocks at lines 4 and 8", snippets)
	}
	out, err := scratchBuild(t, snippetFiles(t, root, snippets))
	if err == nil {
		t.Fatal("a snippet calling a method that does not exist built")
	}
	if want := "broken.md:9:"; !strings.Contains(out, want) || !strings.Contains(out, "ListenTCPP") {
		t.Errorf("go build said:\n%s\nwant an error at %s about ListenTCPP", out, want)
	}
	if strings.Contains(out, "broken.md:4:") {
		t.Errorf("go build reported the block that compiles:\n%s", out)
	}
}

func TestWrapSnippet(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		form     snippetForm
		contains []string
		excludes []string
	}{
		{
			name:     "file",
			code:     "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n",
			form:     formFile,
			contains: []string{"//line /d/x.md:3:1\npackage main\n"},
		},
		{
			name:     "declarations",
			code:     "type Echo struct{ protocol.Base }\n\nfunc (e *Echo) DataReceived(data []byte) { e.Transport().Write(data) }\n",
			form:     formDeclarations,
			contains: []string{"package snippet\n", `"github.com/whirl-go/whirl/protocol"`},
			excludes: []string{"func _()"},
		},
		{
			name:     "main",
			code:     "func main() {\n\tr := reactor.New()\n\t_ = r\n\tlog.Print(time.Second)\n}\n",
			form:     formDeclarations,
			contains: []string{"package main\n", `"github.com/whirl-go/whirl/reactor"`, `"log"`, `"time"`},
		},
		{
			name:     "statements",
			code:     "tr := transporttest.New()\nfmt.Println(tr.Connected())\n",
			form:     formStatements,
			contains: []string{"func _() {\n//line /d/x.md:3:1\n", `"fmt"`, `"github.com/whirl-go/whirl/transport/transporttest"`},
		},
		{
			name:     "locals are not packages",
			code:     "type T struct{ net int }\n\nfunc (t T) f(time T) int { return time.net }\n",
			form:     formDeclarations,
			excludes: []string{"import"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, form, err := wrapSnippet(snippet{file: "/d/x.md", line: 3, code: tt.code})
			if err != nil {
				t.Fatal(err)
			}
			if form != tt.form {
				t.Errorf("form %d, want %d", form, tt.form)
			}
			for _, s := range tt.contains {
				if !strings.Contains(src, s) {
					t.Errorf("wrapped:\n%s\nwant it to contain %q", src, s)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(src, s) {
					t.Errorf("wrapped:\n%s\nwant no %q", src, s)
				}
			}
		})
	}
	if _, _, err := wrapSnippet(snippet{file: "/d/x.md", line: 3, code: "func (\n"}); err == nil || !strings.Contains(err.Error(), "/d/x.md:3") {
		t.Errorf("garbage: error %v, want one naming /d/x.md:3", err)
	}
}
