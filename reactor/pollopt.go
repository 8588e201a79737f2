//go:build poll_opt

package reactor

// gnet's poll_opt build tag changes pkg/netpoll's API (Polling takes no
// callback; the epoll event carries a pointer to a PollAttachment), which
// whirl's loops (loop.go) do not use: whirl refuses to build with it.
var _ = whirl_does_not_support_gnet_poll_opt
