// Package gnetlog adapts a zerolog.Logger to gnet's logging.Logger, so gnet's
// own log lines go to the reactor's logger.
package gnetlog

import (
	"fmt"

	"github.com/rs/zerolog"
)

// Logger implements gnet's logging.Logger on top of zerolog. gnet's info lines
// (engine start-up) are logged at debug level: they are gnet's business, not
// the application's. Any goroutine may use it.
type Logger struct {
	L zerolog.Logger
}

func (l Logger) log(level zerolog.Level, format string, args []any) {
	if e := l.L.WithLevel(level); e.Enabled() {
		e.Str("component", "gnet").Msg(fmt.Sprintf(format, args...))
	}
}

// Debugf logs at debug level. Any goroutine.
func (l Logger) Debugf(format string, args ...any) { l.log(zerolog.DebugLevel, format, args) }

// Infof logs at debug level (see Logger). Any goroutine.
func (l Logger) Infof(format string, args ...any) { l.log(zerolog.DebugLevel, format, args) }

// Warnf logs at warn level. Any goroutine.
func (l Logger) Warnf(format string, args ...any) { l.log(zerolog.WarnLevel, format, args) }

// Errorf logs at error level. Any goroutine.
func (l Logger) Errorf(format string, args ...any) { l.log(zerolog.ErrorLevel, format, args) }

// Fatalf logs at error level and does not exit: a library must not end the
// process. Any goroutine.
func (l Logger) Fatalf(format string, args ...any) { l.log(zerolog.ErrorLevel, format, args) }
