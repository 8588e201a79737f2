package simpleproto_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/whirl-go/whirl/examples/simpleproto/simpleproto"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport/transporttest"
)

// printBodies is a PacketHandler that prints every body it is given.
type printBodies struct{}

func (printBodies) PacketReceived(body []byte) error {
	fmt.Printf("packet %q\n", body)
	return nil
}

// A Server over the in-memory transport of package transporttest: it greets
// the client, then echoes packets fed in pieces that do not follow the
// packets, until a packet with a bad magic number closes the connection.
// The example plays the reactor's part: it calls DataReceived and reads what
// was written with Value, which a Decoder splits into packets again.
func Example() {
	p := (&simpleproto.Factory{}).BuildProtocol(nil)
	tr := transporttest.New()
	protocol.MakeConnection(p, tr) // the reactor's part: ConnectionMade

	in := simpleproto.AppendPacket(nil, []byte("hello"))
	in = simpleproto.AppendPacket(in, []byte("whirl"))
	p.DataReceived(in[:3])
	p.DataReceived(in[3:16])
	p.DataReceived(in[16:])
	p.DataReceived([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0}) // not a packet

	greeting, echoes, _ := strings.Cut(string(tr.Value()), "\r\n")
	fmt.Printf("greeting %q\n", greeting)
	var d simpleproto.Decoder
	if err := d.Feed([]byte(echoes), printBodies{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println("echoed:", p.(*simpleproto.Server).Packets())
	fmt.Println("closed with ErrMagic:", errors.Is(tr.CloseError(), simpleproto.ErrMagic))
	// Output:
	// greeting "sweetness"
	// packet "hello"
	// packet "whirl"
	// echoed: 2
	// closed with ErrMagic: true
}

// A Decoder fed a stream in pieces of 3 bytes: it passes each whole packet
// on, and keeps the start of an unfinished one for the next Feed.
func ExampleDecoder() {
	var stream []byte
	for _, body := range []string{"one", "", "three"} {
		stream = simpleproto.AppendPacket(stream, []byte(body))
	}
	var d simpleproto.Decoder
	for _, piece := range transporttest.Chunks(stream, 3) {
		if err := d.Feed(piece, printBodies{}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("buffered:", d.Buffered())
	// Output:
	// packet "one"
	// packet ""
	// packet "three"
	// buffered: 0
}
