package servers

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// GnetEnroll is raw gnet's echo on connections accepted by Go's net package
// and handed to gnet with Client.Enroll: the path whirl's reactor takes,
// without any of whirl. It measures what that path costs before whirl adds
// its own state, which is the floor of whirl's idle memory and setup cost
// (docs/benchmarks.md).
const GnetEnroll = "gnet-enroll"

// enrollEcho echoes on an enrolled connection as gnetEcho does.
type enrollEcho struct{ gnet.BuiltinEventEngine }

// OnTraffic echoes what was read. gnet's loop goroutine.
func (*enrollEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

func serveGnetEnroll(ctx context.Context, addr string, o Options, ready func(net.Addr)) error {
	cli, err := gnet.NewClient(&enrollEcho{},
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(o.loops()),
		gnet.WithLogger(quietLogger{}))
	if err != nil {
		return err
	}
	if err := cli.Start(); err != nil {
		return err
	}
	defer cli.Stop() //nolint:errcheck
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	ready(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			time.Sleep(5 * time.Millisecond) // EMFILE and the like
			continue
		}
		// Enroll duplicates the descriptor and closes c.
		if _, err := cli.Enroll(c); err != nil {
			logLine("ERROR", "enroll: %v", []any{err})
		}
	}
}
