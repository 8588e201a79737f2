// Package doccheck holds the test that compiles every Go snippet of the
// documentation: the fenced ```go blocks of README.md, docs/*.md and
// examples/*/README.md. It has no code of its own.
//
// Each block becomes one package of a scratch module that requires whirl
// with a replace directive pointing at this checkout (the repository's
// requirements and go.sum are copied beside it), and the test runs go build
// and go vet on the lot. A block is taken in one of three forms:
//
//   - a complete file, starting with its package clause: compiled as it is;
//   - declarations (types, functions, methods, vars): wrapped into a file of
//     package snippet (package main when it declares func main);
//   - statements: wrapped into the body of a function.
//
// A wrapped block gets the imports of the package names it uses (reactor,
// protocol, net, time, ...), from a fixed table in the test; a name missing
// from the table is reported rather than guessed. Every block is preceded
// by a //line directive naming its Markdown file and line, so a compile or
// vet error points at the documentation, not at the scratch copy.
//
// The test skips only when the go command is not on PATH.
package doccheck
