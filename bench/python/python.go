// Package python carries the Python echo servers of whirl's benchmarks,
// embedded so that the bench binary runs them from anywhere:
// twisted_echo.py (Twisted's Protocol and listenTCP) and tornado_echo.py
// (Tornado's TCPServer and IOStream).
//
// Both print "LISTENING host:port" when they listen, take --host, --port and
// --backlog, and stop when their standard input closes.
//
// # Goroutines
//
// Every function may be called from any goroutine.
package python

import (
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed twisted_echo.py tornado_echo.py
var scripts embed.FS

// Server is one Python echo server.
type Server struct {
	// Kind is the name the harness gives it: "python-twisted" or
	// "python-tornado".
	Kind string
	// Module is the Python module it needs.
	Module string
	// Script is the file name of its script in this package.
	Script string
}

// Servers are the Python echo servers, in table order.
var Servers = []Server{
	{Kind: "python-twisted", Module: "twisted", Script: "twisted_echo.py"},
	{Kind: "python-tornado", Module: "tornado", Script: "tornado_echo.py"},
}

// Lookup returns the server named kind. Any goroutine.
func Lookup(kind string) (Server, bool) {
	for _, s := range Servers {
		if s.Kind == kind {
			return s, true
		}
	}
	return Server{}, false
}

// Source returns the script's text. Any goroutine.
func (s Server) Source() ([]byte, error) { return scripts.ReadFile(s.Script) }

// Version returns the version of s.Module that interpreter imports, or an
// error if it cannot import it (or has no such interpreter). Any goroutine.
func (s Server) Version(ctx context.Context, interpreter string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	code := fmt.Sprintf("import %s as m; print(getattr(m, '__version__', None) or getattr(m, 'version', '?'))", s.Module)
	out, err := exec.CommandContext(ctx, interpreter, "-c", code).Output()
	if err != nil {
		return "", fmt.Errorf("python: %s cannot import %s: %w", interpreter, s.Module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// WriteScripts writes every script into dir, under its Script name. Any
// goroutine.
func WriteScripts(dir string) error {
	for _, s := range Servers {
		src, err := s.Source()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Script), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}
