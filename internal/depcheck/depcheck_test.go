package depcheck_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/whirl-go/whirl"

func TestImportGraph(t *testing.T) {
	tests := []struct {
		pkgs     string
		allowed  []string // whirl packages it may depend on
		external []string // module paths outside the standard library it may depend on
	}{
		{"transport", nil, nil},
		{"transport/transporttest", []string{"transport"}, nil},
		{"protocol", []string{"transport"}, nil},
		{"factory", []string{"protocol", "transport"}, nil},
		{"task", []string{"transport"}, nil},
		{"policies", []string{"factory", "protocol", "transport"}, []string{"github.com/rs/zerolog", "github.com/mattn/", "golang.org/x/sys"}},
		{"endpoint", nil, nil},
		{"tlsproto", []string{"factory", "protocol", "transport"}, nil},
		{"haproxy", []string{"factory", "protocol", "transport"}, []string{"github.com/pires/go-proxyproto"}},
		// Tornado's streams: over the public Transport and, for TCPServer's
		// Listen, the reactor.
		{"stream", []string{"endpoint", "factory", "haproxy", "protocol", "reactor", "tlsproto", "transport"}, []string{
			"github.com/pires/go-proxyproto", "github.com/panjf2000/", "github.com/rs/zerolog", "github.com/mattn/", "golang.org/x/", "go.uber.org/", "gopkg.in/natefinch/",
		}},
		// The Prometheus collector: the reactor and what it imports, and
		// the Prometheus client with its own dependencies.
		{"whirlprom", []string{"endpoint", "factory", "haproxy", "protocol", "reactor", "tlsproto", "transport"}, []string{
			"github.com/pires/go-proxyproto",
			"github.com/panjf2000/", "github.com/rs/zerolog", "github.com/mattn/", "golang.org/x/", "go.uber.org/", "gopkg.in/natefinch/",
			"github.com/prometheus/", "github.com/beorn7/perks", "github.com/cespare/xxhash", "github.com/munnerz/goautoneg", "google.golang.org/protobuf",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.pkgs, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", module+"/"+tt.pkgs).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				switch {
				case dep == module+"/"+tt.pkgs:
				case strings.HasPrefix(dep, module+"/"):
					name := strings.TrimPrefix(dep, module+"/")
					ok := false
					for _, a := range tt.allowed {
						ok = ok || name == a
					}
					if !ok {
						t.Errorf("%s imports %s", tt.pkgs, name)
					}
				case strings.Contains(dep, "."):
					// Only the standard library (no dot in the first element).
					first, _, _ := strings.Cut(dep, "/")
					ok := !strings.Contains(first, ".")
					for _, e := range tt.external {
						ok = ok || strings.HasPrefix(dep, e)
					}
					if !ok {
						t.Errorf("%s imports non-standard package %s", tt.pkgs, dep)
					}
				}
			}
		})
	}
}

// TestCoreWithoutOperationsDependencies checks that the library's packages
// do not depend on what operations need: the Prometheus client is
// whirlprom's, tableflip the command line's (package cli).
func TestCoreWithoutOperationsDependencies(t *testing.T) {
	for _, pkg := range []string{"transport", "transport/transporttest", "protocol", "factory", "task", "policies", "endpoint", "reactor", "reactor/reactortest"} {
		out, err := exec.Command("go", "list", "-deps", module+"/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/prometheus/") || strings.HasPrefix(dep, "github.com/cloudflare/tableflip") {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}

// TestNoGnetInExportedAPI checks that no exported declaration outside package
// reactor mentions gnet, by asking go doc for each package's API.
func TestNoGnetInExportedAPI(t *testing.T) {
	for _, pkg := range []string{"transport", "transport/transporttest", "protocol", "factory", "task", "policies", "endpoint", "haproxy", "tlsproto", "reactor", "stream"} {
		out, err := exec.Command("go", "doc", "-all", module+"/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go doc %s: %v\n%s", pkg, err, out)
		}
		if strings.Contains(string(out), "gnet.") {
			t.Errorf("exported API of %s mentions a gnet type", pkg)
		}
	}
}

// TestReactorUsesGnetPartsOnly checks that the reactor is built on gnet's
// published parts (pkg/netpoll, pkg/socket, ...) and not on its engine: no
// gnet.Engine, gnet.Client or Enroll, whose rules conflict with Twisted's.
func TestReactorUsesGnetPartsOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", module+"/reactor").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/panjf2000/gnet/v2" {
			t.Error("reactor imports gnet's engine (github.com/panjf2000/gnet/v2); use its pkg/ parts")
		}
	}
}
