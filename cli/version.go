package cli

import (
	"runtime/debug"
)

// version is whirl's version when the build sets it:
//
//	go build -ldflags "-X github.com/whirl-go/whirl/cli.version=v1.2.0" ./cmd/whirl
var version string

// Version returns whirl's version: the one set at link time, else the
// version of the module in the build information (a tag such as "v1.2.0"
// for `go install github.com/whirl-go/whirl/cmd/whirl@v1.2.0`, "(devel)"
// for a build in the source tree), followed by the VCS revision, its time
// and "+dirty" when the build recorded them. Any goroutine.
func Version() string {
	v := version
	bi, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "(devel)"
		if ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	if !ok {
		return v
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
		if at != "" {
			v += " " + at
		}
	}
	return v
}
