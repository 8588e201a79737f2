package httpplain_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"slices"

	"github.com/whirl-go/whirl/examples/httpplain/httpplain"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// A Server over the in-memory transport of package transporttest, fed two
// pipelined requests split across reads at an arbitrary byte; the second
// asks to close the connection. The example plays the reactor's part: it
// calls DataReceived and reads what was written with Value, which it parses
// with net/http as a client would. The Date header holds the wall clock's
// time, so only its presence is printed.
func Example() {
	f := &httpplain.Factory{}
	p := f.BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr) // the reactor's part: ConnectionMade

	requests := "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n" +
		"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	p.DataReceived([]byte(requests[:20]))
	p.DataReceived([]byte(requests[20:]))

	answers := bufio.NewReader(bytes.NewReader(tr.Value()))
	for range 2 {
		resp, err := http.ReadResponse(answers, nil)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(resp.Proto, resp.Status)
		for _, name := range slices.Sorted(maps.Keys(resp.Header)) {
			value := resp.Header.Get(name)
			if name == "Date" {
				value = "(now)"
			}
			fmt.Printf("  %s: %s\n", name, value)
		}
		fmt.Printf("  body %q, close %v\n", body, resp.Close) // Close: "Connection: close"
	}
	fmt.Println("requests:", p.(*httpplain.Server).Requests())
	fmt.Println("closing:", tr.Disconnecting())
	// Output:
	// HTTP/1.1 200 OK
	//   Content-Length: 12
	//   Content-Type: text/plain
	//   Date: (now)
	//   Server: whirl
	//   body "Hello World!", close false
	// HTTP/1.1 200 OK
	//   Content-Length: 12
	//   Content-Type: text/plain
	//   Date: (now)
	//   Server: whirl
	//   body "Hello World!", close true
	// requests: 2
	// closing: true
}
