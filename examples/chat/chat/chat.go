// Package chat is a line-based chat server in the style of the chat examples
// of Twisted's documentation, ported to whirl: a [protocol.LineReceiver] per
// connection, all of them in one [Room].
//
// # The protocol
//
// Lines end with CR LF, both ways. On connect the server sends
//
//	WELCOME <n> users online
//
// where n counts every client in the room, the new one included. Then each
// line from a client is one of:
//
//	NICK <name>   set the nickname; answered "OK <name>"
//	/quit         answered "BYE", then the server closes the connection
//	anything else sent to every other client as "<nick>: <line>"
//
// A client's nickname is the host:port of its peer address until it sends
// NICK. Errors are answered with a line starting "ERR":
//
//	ERR usage: NICK <name>   NICK with no name (or only spaces)
//	ERR invalid nickname     a name over MaxNickLength bytes, or holding a
//	                         space, a colon or a control character
//	ERR nickname in use      a name another client chose
//	ERR invalid line         a line holding a CR or an LF (other than the
//	                         CR LF that ends it), which could forge lines
//	                         on clients that end lines at LF
//	ERR line too long        a line over the factory's MaxLength; the
//	                         connection is then closed
//
// Commands are case-sensitive ("nick bob" is a chat message) and the name
// after NICK is trimmed of spaces and tabs. Nicknames chosen with NICK are
// unique in the room (compared byte for byte); a name cannot contain a colon,
// so no one can take a default host:port name, nor forge the "<nick>: "
// prefix of a message. Empty lines are ignored, not broadcast. The sender of
// a message does not get it back. The server sends nothing when clients join,
// leave or change nicknames.
//
// # Goroutines
//
// A [Chat]'s callbacks run on its connection's loop, as every protocol's do,
// and its own fields need no lock. The [Room] is shared by every connection,
// on every loop of the reactor: it is guarded by a mutex. A broadcast copies
// the list of the other members' transports under the lock, releases it, and
// then writes the message to each transport (Transport.Write is safe from any
// goroutine); it never calls another connection's protocol. [Factory] and
// [Room] methods may be called from any goroutine.
package chat

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/transport"
)

// MaxNickLength is the longest nickname NICK accepts, in bytes.
const MaxNickLength = 32

// Errors of package chat.
var (
	// ErrMaxLength is returned (wrapped, with the value) by Factory.Check
	// for a negative MaxLength.
	ErrMaxLength = errors.New("chat: negative --max-length")
)

// The lines the server sends, without their CR LF.
var (
	replyBye         = []byte("BYE")
	replyOK          = []byte("OK ")
	replyUsage       = []byte("ERR usage: NICK <name>")
	replyInvalidNick = []byte("ERR invalid nickname")
	replyNickInUse   = []byte("ERR nickname in use")
	replyTooLong     = []byte("ERR line too long")
	replyBadLine     = []byte("ERR invalid line")
	cmdNick          = []byte("NICK")
	cmdQuit          = []byte("/quit")
	crlf             = []byte(protocol.DefaultLineDelimiter)
	nickSeparator    = []byte(": ")
)

// Factory builds a [Chat] for every connection, all of them in the factory's
// own [Room]. The zero value is ready to use; set MaxLength before the
// factory is listened on.
type Factory struct {
	factory.Base

	// MaxLength is the longest line accepted from a client, in bytes, not
	// counting the CR LF; 0 means protocol.DefaultMaxLineLength (16384). A
	// longer line is answered "ERR line too long" and the connection is
	// closed. Set it before listening; it is read by BuildProtocol.
	MaxLength int

	room Room
}

// BuildProtocol returns a new [Chat] in f's room. Any goroutine (the reactor
// calls it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	c := &Chat{room: &f.room}
	c.MaxLength = f.MaxLength
	return c
}

// Room returns the factory's room. Any goroutine.
func (f *Factory) Room() *Room { return &f.room }

// RegisterFlags defines --max-length on fs, storing its value in
// f.MaxLength, with protocol.DefaultMaxLineLength as the default. Any
// goroutine, before the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxLength, "max-length", protocol.DefaultMaxLineLength,
		"longest line accepted, in `bytes` without the CR LF (0: the default)")
}

// Check reports a setting that cannot be used: a negative MaxLength, as an
// error wrapping [ErrMaxLength]. Any goroutine.
func (f *Factory) Check() error {
	if f.MaxLength < 0 {
		return fmt.Errorf("%w: %d", ErrMaxLength, f.MaxLength)
	}
	return nil
}

// Chat is one client of the chat: a [protocol.LineReceiver] whose lines are
// the commands and messages described in the package documentation. Chats
// are made by [Factory.BuildProtocol]; every method runs on the connection's
// loop goroutine.
type Chat struct {
	protocol.LineReceiver

	room *Room
	nick string // the nickname, own loop only; "" until ConnectionMade
	// Scratch space of broadcast, reused so that a message costs no
	// allocation once they have grown. Own loop only.
	msg   []byte
	peers []transport.Transport
}

// ConnectionMade joins the room, takes the peer's host:port as the
// nickname, and sends the WELCOME line. Loop goroutine.
func (c *Chat) ConnectionMade() {
	c.nick = c.Transport().RemoteAddr().String()
	n := c.room.join(c, c.Transport())
	c.msg = strconv.AppendInt(append(c.msg[:0], "WELCOME "...), int64(n), 10)
	c.msg = append(c.msg, " users online"...)
	_ = c.SendLine(c.msg)
}

// LineReceived runs one command or broadcasts one message. line is valid
// only during the call; what is kept (a nickname) is copied. Loop goroutine.
func (c *Chat) LineReceived(line []byte) {
	switch {
	case len(line) == 0:
		// An empty line is not a message.
	case bytes.Equal(line, cmdQuit):
		_ = c.SendLine(replyBye)
		c.room.leave(c)
		c.Transport().LoseConnection()
	case bytes.HasPrefix(line, cmdNick) && (len(line) == len(cmdNick) || line[len(cmdNick)] == ' '):
		c.setNick(bytes.Trim(line[len(cmdNick):], " \t"))
	case bytes.ContainsAny(line, "\r\n"):
		_ = c.SendLine(replyBadLine)
	default:
		c.broadcast(line)
	}
}

// LineLengthExceeded answers a line over MaxLength with "ERR line too long",
// leaves the room, and closes the connection (LineReceiver's default).
// Loop goroutine.
func (c *Chat) LineLengthExceeded(remainder []byte) {
	_ = c.SendLine(replyTooLong)
	c.room.leave(c)
	c.LineReceiver.LineLengthExceeded(remainder)
}

// ConnectionLost leaves the room, freeing the nickname. Loop goroutine.
func (c *Chat) ConnectionLost(reason error) {
	c.room.leave(c)
	clear(c.peers)
}

// Nick returns the client's nickname: its peer's host:port until it chose
// one with NICK. Loop goroutine.
func (c *Chat) Nick() string { return c.nick }

// setNick runs NICK name.
func (c *Chat) setNick(name []byte) {
	switch {
	case len(name) == 0:
		_ = c.SendLine(replyUsage)
		return
	case !validNick(name):
		_ = c.SendLine(replyInvalidNick)
		return
	}
	nick := string(name)
	if !c.room.rename(c, nick) {
		_ = c.SendLine(replyNickInUse)
		return
	}
	c.nick = nick
	c.msg = append(append(c.msg[:0], replyOK...), nick...)
	_ = c.SendLine(c.msg)
}

// validNick reports whether name may be a nickname: at most MaxNickLength
// bytes, none of them a space, a colon or an ASCII control character. Bytes
// of non-ASCII UTF-8 are allowed.
func validNick(name []byte) bool {
	if len(name) > MaxNickLength {
		return false
	}
	for _, b := range name {
		if b <= ' ' || b == ':' || b == 0x7f {
			return false
		}
	}
	return true
}

// broadcast sends "<nick>: <line>" to every other member of the room.
func (c *Chat) broadcast(line []byte) {
	c.msg = append(append(append(append(c.msg[:0], c.nick...), nickSeparator...), line...), crlf...)
	c.peers = c.room.others(c, c.peers[:0])
	for _, t := range c.peers {
		// An error means that member is closing: nothing to do.
		_, _ = t.Write(c.msg)
	}
	clear(c.peers) // keep no transport alive past the call
}

// Room is the set of clients of one chat, shared by every connection on
// every loop; its methods are safe from any goroutine. The zero value is an
// empty room.
type Room struct {
	mu      sync.Mutex
	members map[*Chat]transport.Transport
	nicks   map[string]*Chat // the nicknames chosen with NICK
	chosen  map[*Chat]string // the reverse of nicks
}

// Len returns the number of clients in the room. Any goroutine.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// join adds c, whose transport is t, and returns the number of members,
// c included.
func (r *Room) join(c *Chat, t transport.Transport) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members == nil {
		r.members = make(map[*Chat]transport.Transport)
		r.nicks = make(map[string]*Chat)
		r.chosen = make(map[*Chat]string)
	}
	r.members[c] = t
	return len(r.members)
}

// leave removes c and frees the nickname it chose; calling it again does
// nothing.
func (r *Room) leave(c *Chat) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, c)
	if nick, ok := r.chosen[c]; ok {
		delete(r.nicks, nick)
		delete(r.chosen, c)
	}
}

// rename gives c the nickname nick, freeing the one it chose before, unless
// another member holds nick; it reports whether c has nick now.
func (r *Room) rename(c *Chat, nick string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[c]; !ok {
		return false
	}
	if holder, ok := r.nicks[nick]; ok {
		return holder == c
	}
	if old, ok := r.chosen[c]; ok {
		delete(r.nicks, old)
	}
	r.nicks[nick] = c
	r.chosen[c] = nick
	return true
}

// others appends the transports of every member but c to dst and returns
// it.
func (r *Room) others(c *Chat, dst []transport.Transport) []transport.Transport {
	r.mu.Lock()
	defer r.mu.Unlock()
	for m, t := range r.members {
		if m != c {
			dst = append(dst, t)
		}
	}
	return dst
}
