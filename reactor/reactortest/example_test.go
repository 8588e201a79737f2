package reactortest_test

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor/reactortest"
)

// upper answers each line in capitals.
type upper struct{ protocol.LineReceiver }

func (u *upper) LineReceived(line []byte) {
	out := make([]byte, len(line))
	for i, b := range line {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	_ = u.SendLine(out)
}

// TestUpper is what a loopback test looks like: Serve runs a real reactor
// for the length of the test and stops it gracefully at the end.
func TestUpper(t *testing.T) {
	port := reactortest.Serve(t, factory.ForProtocol(func() protocol.Protocol { return &upper{} }))
	c, err := net.Dial("tcp", port.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "hello, whirl\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if got, want := line, "HELLO, WHIRL\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// recorder stands in for the *testing.T of a test, so that the example
// runs outside one: it keeps the cleanups Serve registers and runs them at
// the end, as the testing package does when a test ends.
type recorder struct {
	testing.TB // only the methods below are called
	cleanups   []func()
	failed     bool
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Printf(format+"\n", args...)
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); panic("fatal") }

func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// Serve runs a reactor on a loopback port for the length of a test (see
// TestUpper in this file); here the test's end is the recorder's.
func ExampleServe() {
	tb := &recorder{}
	port := reactortest.Serve(tb, factory.ForProtocol(func() protocol.Protocol { return &upper{} }))
	c, err := net.Dial("tcp", port.Addr().String())
	if err != nil {
		panic(err)
	}
	fmt.Fprint(c, "hello, whirl\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", line)
	c.Close()
	tb.end() // stops the reactor gracefully, as the end of a test does
	fmt.Println("failed:", tb.failed)
	// Output:
	// "HELLO, WHIRL\r\n"
	// failed: false
}
