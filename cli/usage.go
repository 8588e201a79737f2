package cli

import (
	"flag"
	"fmt"
	"strings"
)

// PrintDefaults prints every flag of fs to fs.Output() as flag.PrintDefaults
// does, but always with its default, even a zero one ("0", "", false),
// which flag.PrintDefaults leaves out: an operator reading -h sees what a
// server does when the flag is not given. Any goroutine.
func PrintDefaults(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		// Boolean flags of one ASCII letter fit on the line, as in flag.
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		def := f.DefValue
		if isString(f) {
			def = fmt.Sprintf("%q", def)
		}
		fmt.Fprintf(&b, " (default %s)\n", def)
		fmt.Fprint(w, b.String())
	})
}

// isString reports whether f holds a string (its default is then quoted,
// as flag.PrintDefaults quotes it).
func isString(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}
