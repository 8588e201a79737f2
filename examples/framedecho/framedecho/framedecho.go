package framedecho

import (
	"errors"
	"flag"
	"fmt"
	"net"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// Errors of package framedecho, returned (some wrapped, with the value) by
// ParseFraming, Framing.Set and Factory.Check.
var (
	// ErrFraming means a framing name is not int32, int16, int8 or
	// netstring.
	ErrFraming = errors.New("framedecho: unknown framing")
	// ErrNoFraming means a Factory has no Framing (no --framing flag).
	ErrNoFraming = errors.New("framedecho: --framing is required (int32, int16, int8 or netstring)")
	// ErrMaxLength means MaxLength is negative.
	ErrMaxLength = errors.New("framedecho: negative --max-length")
)

// Framing is how frames are delimited on the wire. The zero value is no
// framing: a Factory needs one set. Framing implements flag.Value.
type Framing int

// The framings.
const (
	Int32     Framing = iota + 1 // protocol.Int32StringReceiver
	Int16                        // protocol.Int16StringReceiver
	Int8                         // protocol.Int8StringReceiver
	Netstring                    // protocol.NetstringReceiver
)

var framingNames = map[Framing]string{
	Int32:     "int32",
	Int16:     "int16",
	Int8:      "int8",
	Netstring: "netstring",
}

// String returns the framing's name, as ParseFraming takes it, or "" for
// the zero value. Any goroutine.
func (f Framing) String() string { return framingNames[f] }

// ParseFraming returns the framing called name: "int32", "int16", "int8" or
// "netstring". Any other name gives an error wrapping [ErrFraming]. Any
// goroutine.
func ParseFraming(name string) (Framing, error) {
	for f, n := range framingNames {
		if n == name {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w %q (want int32, int16, int8 or netstring)", ErrFraming, name)
}

// Set sets f from its name, as ParseFraming does; it makes Framing a
// flag.Value. Any goroutine, though not at once with reads of f.
func (f *Framing) Set(name string) error {
	v, err := ParseFraming(name)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Factory builds the echo protocol of its Framing for every connection. Set
// its fields before it is listened on.
type Factory struct {
	factory.Base

	// Framing is the framing of every connection; it must be set.
	Framing Framing

	// MaxLength is the longest frame payload accepted, in bytes; 0 means
	// protocol.DefaultMaxStringLength (99999). A frame announcing more closes
	// the connection. For int8 framing any value of 255 or more allows every
	// frame.
	MaxLength int
}

// BuildProtocol returns a new echo protocol for f.Framing: an [*Int32Echo],
// [*Int16Echo], [*Int8Echo] or [*NetstringEcho]. Without a valid Framing it
// returns nil, which refuses the connection. Any goroutine (the reactor calls
// it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	switch f.Framing {
	case Int32:
		p := &Int32Echo{}
		p.MaxLength = f.MaxLength
		return p
	case Int16:
		p := &Int16Echo{}
		p.MaxLength = f.MaxLength
		return p
	case Int8:
		p := &Int8Echo{}
		p.MaxLength = f.MaxLength
		return p
	case Netstring:
		p := &NetstringEcho{}
		p.MaxLength = f.MaxLength
		return p
	}
	return nil
}

// RegisterFlags defines --framing (no default) and --max-length (default
// protocol.DefaultMaxStringLength) on fs, storing their values in f. Any
// goroutine, before the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(&f.Framing, "framing", "frame `format`: int32, int16, int8 or netstring (required)")
	fs.IntVar(&f.MaxLength, "max-length", protocol.DefaultMaxStringLength,
		"longest frame payload accepted, in `bytes` (0: the default)")
}

// Check reports a setting that cannot be used: no valid Framing
// ([ErrNoFraming]) or a negative MaxLength (an error wrapping
// [ErrMaxLength]). Any goroutine.
func (f *Factory) Check() error {
	if f.Framing.String() == "" {
		return ErrNoFraming
	}
	if f.MaxLength < 0 {
		return fmt.Errorf("%w: %d", ErrMaxLength, f.MaxLength)
	}
	return nil
}

// Int32Echo echoes frames with a 4-byte length prefix. Its methods run on
// the connection's loop goroutine.
type Int32Echo struct{ protocol.Int32StringReceiver }

// ConnectionMade makes the transport the producer of its own output (see
// the package's flow control). Loop goroutine.
func (e *Int32Echo) ConnectionMade() { ownProducer(e.Transport()) }

// StringReceived sends s back in the same framing. Loop goroutine.
func (e *Int32Echo) StringReceived(s []byte) { _ = e.SendString(s) }

// Int16Echo echoes frames with a 2-byte length prefix. Its methods run on
// the connection's loop goroutine.
type Int16Echo struct{ protocol.Int16StringReceiver }

// ConnectionMade makes the transport the producer of its own output (see
// the package's flow control). Loop goroutine.
func (e *Int16Echo) ConnectionMade() { ownProducer(e.Transport()) }

// StringReceived sends s back in the same framing. Loop goroutine.
func (e *Int16Echo) StringReceived(s []byte) { _ = e.SendString(s) }

// Int8Echo echoes frames with a 1-byte length prefix. Its methods run on
// the connection's loop goroutine.
type Int8Echo struct{ protocol.Int8StringReceiver }

// ConnectionMade makes the transport the producer of its own output (see
// the package's flow control). Loop goroutine.
func (e *Int8Echo) ConnectionMade() { ownProducer(e.Transport()) }

// StringReceived sends s back in the same framing. Loop goroutine.
func (e *Int8Echo) StringReceived(s []byte) { _ = e.SendString(s) }

// NetstringEcho echoes netstrings. Its methods run on the connection's loop
// goroutine.
type NetstringEcho struct{ protocol.NetstringReceiver }

// ConnectionMade makes the transport the producer of its own output (see
// the package's flow control). Loop goroutine.
func (e *NetstringEcho) ConnectionMade() { ownProducer(e.Transport()) }

// StringReceived sends s back as a netstring. Loop goroutine.
func (e *NetstringEcho) StringReceived(s []byte) { _ = e.SendString(s) }

// ownProducer registers t as its own streaming producer. It fails only on a
// connection already closed, where there is nothing to hold back.
func ownProducer(t transport.Transport) { _ = t.RegisterProducer(t, true) }
