//go:build poll_opt

package reactor

// gnet's poll_opt build tag stores a pointer in epoll's event data, which
// whirl's read pause (input.go) would overwrite: whirl refuses to build with it.
var _ = whirl_does_not_support_gnet_poll_opt
