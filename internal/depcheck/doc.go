// Package depcheck holds the test that keeps whirl's import graph the DAG of
// docs/design.md: transport imports no whirl package, protocol only transport,
// factory only protocol and transport, endpoint only the standard library,
// and none of them imports gnet or zerolog; no library package (reactor
// included) imports the Prometheus client or tableflip, which only whirlprom
// and the command line use. It has no code of its own.
package depcheck
