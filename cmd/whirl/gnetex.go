package main

import (
	"context"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/examples/push/push"
	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/examples/websocket/websocket"
)

// The commands of gnet's examples, ported (examples/httpplain, push,
// simpleproto, websocket). gnet's UNIX-socket echo is `whirl unixecho`
// (main.go): the echo on a UNIX listener.

// runHTTPPlain runs gnet's HTTP example, examples/httpplain.
func runHTTPPlain(ctx context.Context, env *env, args []string) error {
	f := &httpplain.Factory{}
	fl, err := serverFlags(env, "httpplain", "tcp:8080", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}

// runPush runs gnet's push example, examples/push.
func runPush(ctx context.Context, env *env, args []string) error {
	f := &push.Factory{}
	fl, err := serverFlags(env, "push", "tcp:9000", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}

// runSimpleproto runs gnet's simple-protocol server, or with "client" first
// its client, examples/simpleproto.
func runSimpleproto(ctx context.Context, env *env, args []string) error {
	if len(args) > 0 && args[0] == "client" {
		return simpleproto.RunClientCommand(ctx, "whirl simpleproto client", args[1:], env.stdout, env.stderr)
	}
	f := &simpleproto.Factory{}
	fl, err := serverFlags(env, "simpleproto", "tcp:9000", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}

// runWebSocket runs gnet's WebSocket echo, examples/websocket.
func runWebSocket(ctx context.Context, env *env, args []string) error {
	f := &websocket.Factory{}
	fl, err := serverFlags(env, "websocket", "tcp:9080", args, f)
	if err != nil {
		return err
	}
	return fl.Serve(ctx, env.logs, f, env.ready)
}
