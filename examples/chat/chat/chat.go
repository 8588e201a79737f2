package chat

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
)

// MaxNickLength is the longest nickname NICK accepts, in bytes.
const MaxNickLength = 32

// Errors of package chat.
var (
	// ErrMaxLength is returned (wrapped, with the value) by Factory.Check
	// for a negative MaxLength.
	ErrMaxLength = errors.New("chat: negative --max-length")

	// ErrSendQ is returned (wrapped, with the values) by Factory.Check for a
	// SendQ that is negative or too small to hold the longest message.
	ErrSendQ = errors.New("chat: bad --sendq")

	// ErrSendQExceeded is the reason a client is closed with when its send
	// queue passed the factory's SendQ: the transport's CloseWithError, so
	// ConnectionLost's reason matches it and transport.ErrConnectionAborted,
	// and the reactor logs it with the client's address.
	ErrSendQExceeded = errors.New("chat: send queue exceeded")
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
	closingLink      = []byte("ERROR :Closing Link: ")
	sendQExceeded    = []byte(" (SendQ exceeded)")
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

	// SendQ is the most a client may have waiting to be sent to it, in
	// bytes, before it is disconnected ("ERROR :Closing Link: <nick>
	// (SendQ exceeded)", then CloseWithError(ErrSendQExceeded)); 0 means
	// DefaultSendQ (1 MiB). It must hold the longest message (MaxLength
	// plus the nickname). See the package documentation for what it
	// counts. Set it before listening; it is read by BuildProtocol.
	SendQ int

	// Hold is how long a client whose send queue is over a quarter of its
	// limit may keep the room's senders waiting while it makes no progress
	// (its transport neither drained nor took more of the queue); 0 means
	// DefaultHold (250 ms). Longer lets slower readers pace the room
	// instead of being disconnected; shorter bounds how long a client that
	// does not read can stall the room before it no longer counts. Set it
	// before listening; it is read by BuildProtocol.
	Hold time.Duration

	room Room
}

// BuildProtocol returns a new [Chat] in f's room. Any goroutine (the reactor
// calls it on the new connection's loop).
func (f *Factory) BuildProtocol(net.Addr) protocol.Protocol {
	c := &Chat{room: &f.room, lim: f.limits()}
	c.MaxLength = f.MaxLength
	return c
}

// limits returns the send-queue settings of f's clients.
func (f *Factory) limits() limits {
	sendq, hold := f.SendQ, f.Hold
	if sendq <= 0 {
		sendq = DefaultSendQ
	}
	if hold <= 0 {
		hold = DefaultHold
	}
	return newLimits(sendq, hold)
}

// Room returns the factory's room. Any goroutine.
func (f *Factory) Room() *Room { return &f.room }

// RegisterFlags defines --max-length and --sendq on fs, storing their values
// in f.MaxLength (default protocol.DefaultMaxLineLength) and f.SendQ
// (default DefaultSendQ; a number of bytes, or with a KiB or MiB suffix).
// Any goroutine, before the flags are parsed.
func (f *Factory) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxLength, "max-length", protocol.DefaultMaxLineLength,
		"longest line accepted, in `bytes` without the CR LF (0: the default)")
	f.SendQ = DefaultSendQ
	fs.Var((*byteSize)(&f.SendQ), "sendq",
		"most `bytes` waiting to be sent to one client before it is disconnected (e.g. 1MiB, 256KiB; 0: the default)")
	fs.DurationVar(&f.Hold, "sendq-hold", DefaultHold,
		"how long a client behind by a quarter of its send queue may make the others wait without reading (0: the default)")
}

// Check reports a setting that cannot be used: a negative MaxLength, as an
// error wrapping [ErrMaxLength]; a negative SendQ, or one smaller than the
// longest message (MaxLength plus 96 bytes for the nickname, ": " and
// CR LF), as an error wrapping [ErrSendQ]. Any goroutine.
func (f *Factory) Check() error {
	if f.MaxLength < 0 {
		return fmt.Errorf("%w: %d", ErrMaxLength, f.MaxLength)
	}
	maxLen := f.MaxLength
	if maxLen == 0 {
		maxLen = protocol.DefaultMaxLineLength
	}
	switch longest := maxLen + messageOverhead; {
	case f.SendQ < 0:
		return fmt.Errorf("%w: negative: %d", ErrSendQ, f.SendQ)
	case f.Hold < 0:
		return fmt.Errorf("%w: negative --sendq-hold: %v", ErrSendQ, f.Hold)
	case f.SendQ > 0 && f.limits().queue < longest:
		return fmt.Errorf("%w: %d bytes cannot hold the longest message (%d bytes: --max-length %d, the nickname and CR LF) beside the transport's share (%d)",
			ErrSendQ, f.SendQ, longest, maxLen, 2*f.limits().high)
	}
	return nil
}

// byteSize is a flag.Value for a number of bytes, written as a number or
// with a KiB or MiB suffix (K, M).
type byteSize int

// String formats the size with the largest suffix that divides it. Any
// goroutine.
func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	switch n := int(*b); {
	case n != 0 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	default:
		return strconv.Itoa(n)
	}
}

// Set parses s. Any goroutine.
func (b *byteSize) Set(arg string) error {
	s, shift := arg, 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"MiB", 20}, {"KiB", 10}, {"M", 20}, {"K", 10}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > math.MaxInt32>>shift || n < -(math.MaxInt32>>shift) {
		return fmt.Errorf("bad size %q: want bytes, or a number with KiB or MiB", arg)
	}
	*b = byteSize(n << shift)
	return nil
}

// Chat is one client of the chat: a [protocol.LineReceiver] whose lines are
// the commands and messages described in the package documentation. Chats
// are made by [Factory.BuildProtocol]; every method runs on the connection's
// loop goroutine.
type Chat struct {
	protocol.LineReceiver

	room *Room
	lim  limits  // the factory's send-queue settings
	m    *member // this client in the room; nil until ConnectionMade
	nick string  // the nickname, own loop only; "" until ConnectionMade
	// Scratch space, reused so that a message costs no allocation once
	// they have grown: the messages gathered for the room (see flush), a
	// reply, the snapshot of the room. Own loop only.
	msg   []byte
	out   []byte
	peers []*member

	// While the room is congested the client waits (blocked): its reading
	// is paused, the messages gathered stay in msg, and the data received
	// and not split yet is kept in stash. Own loop only.
	blocked  bool
	lost     bool   // ConnectionLost was called
	stash    []byte // kept data: stash[stashOff:] is still to be split
	stashOff int
	resumeFn func()
}

var _ protocol.WriteBufferNotifier = (*Chat)(nil)

// ConnectionMade sets the transport's watermarks from the SendQ, joins the
// room, takes the peer's host:port as the nickname, and sends the WELCOME
// line. Loop goroutine.
func (c *Chat) ConnectionMade() {
	t := c.Transport()
	c.nick = t.RemoteAddr().String()
	if c.lim.hold == 0 { // a Chat not made by a Factory
		c.lim = (&Factory{}).limits()
	}
	c.m = newMember(c, c.room, t, c.lim)
	c.resumeFn = c.resume
	t.SetWriteWatermarks(c.m.lim.high, c.m.lim.low)
	n := c.room.join(c, c.m)
	c.out = strconv.AppendInt(append(c.out[:0], "WELCOME "...), int64(n), 10)
	c.out = append(append(c.out, " users online"...), crlf...)
	c.m.deliver(c.out)
}

// reply sends line and CR LF to the client, through its send queue.
func (c *Chat) reply(line []byte) {
	c.out = append(append(c.out[:0], line...), crlf...)
	c.m.deliver(c.out)
}

// DataReceived splits data into lines (see LineReceived) and then delivers
// the messages among them to the room, all at once: each other member gets
// one write for the lot rather than one per line. While the client waits
// for a congested room, data is kept (copied) for later. data is valid only
// until DataReceived returns. Loop goroutine.
func (c *Chat) DataReceived(data []byte) {
	if c.blocked || c.stashOff < len(c.stash) {
		c.stash = append(c.stash, data...)
		return
	}
	for len(data) > 0 {
		n := min(c.slice(), len(data))
		c.LineReceiver.DataReceived(data[:n])
		data = data[n:]
		if !c.flush() {
			c.stash = append(c.stash, data...)
			return
		}
	}
}

// quantum is how much of its input a client splits and delivers at a time
// while the room is congested: the waiting clients take turns, each with
// this much, so that one with a short line to send waits for one round of
// turns, not for the others' whole reads.
const quantum = 1 << 10

// slice returns how much of its input the client splits before it delivers
// the messages found: lim.batch, or quantum while the room is congested.
func (c *Chat) slice() int {
	if c.room.Congested() {
		return quantum
	}
	return c.m.lim.batch
}

// LineReceived runs one command or adds one message to those DataReceived
// delivers (delivering them before /quit and NICK, and whenever they pass
// the batch size, at most 16 KiB). line is valid only during the call; what is
// kept (a nickname) is copied. Loop goroutine.
func (c *Chat) LineReceived(line []byte) {
	switch {
	case len(line) == 0:
		// An empty line is not a message.
	case bytes.Equal(line, cmdQuit):
		c.deliver()
		c.reply(replyBye)
		c.room.leave(c)
		c.m.finish(true)
		c.Transport().LoseConnection()
	case bytes.HasPrefix(line, cmdNick) && (len(line) == len(cmdNick) || line[len(cmdNick)] == ' '):
		if !c.flush() { // the messages before it carry the old name
			c.keep(line)
			return
		}
		c.setNick(bytes.Trim(line[len(cmdNick):], " \t"))
	case bytes.ContainsAny(line, "\r\n"):
		c.reply(replyBadLine)
	default:
		c.msg = append(append(append(append(c.msg, c.nick...), nickSeparator...), line...), crlf...)
		// Many short lines can make more than a slice of messages.
		if len(c.msg) >= 4*c.m.lim.batch && !c.flush() {
			c.keep(nil)
		}
	}
}

// keep stops the line receiver while the client waits for the room: line
// (a command not run yet, or nil) and everything received after it and not
// split yet are kept in stash, to be fed again by resume.
func (c *Chat) keep(line []byte) {
	rest := c.ClearLineBuffer()
	old := c.stash[c.stashOff:]
	kept := make([]byte, 0, len(line)+len(crlf)+len(rest)+len(old))
	if line != nil {
		kept = append(append(kept, line...), crlf...)
	}
	c.stash, c.stashOff = append(append(kept, rest...), old...), 0
}

// LineLengthExceeded answers a line over MaxLength with "ERR line too long",
// leaves the room, and closes the connection (LineReceiver's default) once
// what was queued for the client is written. Loop goroutine.
func (c *Chat) LineLengthExceeded(remainder []byte) {
	c.deliver()
	c.reply(replyTooLong)
	c.room.leave(c)
	c.m.finish(true)
	c.LineReceiver.LineLengthExceeded(remainder)
}

// ConnectionLost leaves the room, freeing the nickname, drops what was
// queued for the client, and lets go the senders it held. Loop goroutine.
func (c *Chat) ConnectionLost(reason error) {
	c.lost = true
	c.stash, c.stashOff = nil, 0
	c.room.leave(c)
	if c.m != nil {
		c.m.finish(false)
	}
	clear(c.peers)
}

// WriteBufferFull is called by the reactor when the client's transport
// holds more than its high watermark (set from the SendQ): from then on
// the lines for the client are queued by the room. Loop goroutine.
func (c *Chat) WriteBufferFull() { c.m.writeBufferFull() }

// WriteBufferDrained is called by the reactor when the client's transport
// drained below its low watermark: the room moves what it queued for the
// client into the transport, and lets its senders go on once the queue is
// short again. Loop goroutine.
func (c *Chat) WriteBufferDrained() { c.m.writeBufferDrained() }

// Queued returns the bytes the room holds for the client, not yet handed
// to its transport (its send queue, without the transport's own buffer).
// Any goroutine.
func (c *Chat) Queued() int {
	if c.m == nil {
		return 0
	}
	return c.m.queued()
}

// Waiting reports whether the client waits for a congested room (its
// reading paused, its messages kept). Loop goroutine.
func (c *Chat) Waiting() bool { return c.blocked }

// Nick returns the client's nickname: its peer's host:port until it chose
// one with NICK. Loop goroutine.
func (c *Chat) Nick() string { return c.nick }

// setNick runs NICK name.
func (c *Chat) setNick(name []byte) {
	switch {
	case len(name) == 0:
		c.reply(replyUsage)
		return
	case !validNick(name):
		c.reply(replyInvalidNick)
		return
	}
	nick := string(name)
	if !c.room.rename(c, nick) {
		c.reply(replyNickInUse)
		return
	}
	c.nick = nick
	c.m.setNick(nick)
	c.out = append(append(append(c.out[:0], replyOK...), nick...), crlf...)
	c.m.deliver(c.out)
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

// flush delivers the messages gathered in c.msg, unless the room is
// congested: then the client waits (its reading paused, the messages kept)
// until resume. It reports whether nothing is left to deliver.
func (c *Chat) flush() bool {
	switch {
	case len(c.msg) == 0:
		return true
	case c.blocked:
		return false
	case c.room.wait(c):
		c.blocked = true
		c.Transport().PauseProducing()
		return false
	}
	c.deliver()
	return true
}

// deliver delivers the messages gathered in c.msg ("<nick>: <line>" CR LF
// each) to every other member of the room, through their send queues,
// whether or not the room is congested.
func (c *Chat) deliver() {
	if len(c.msg) == 0 {
		return
	}
	c.peers = c.room.others(c, c.peers[:0])
	for _, m := range c.peers {
		m.deliver(c.msg)
	}
	clear(c.peers) // keep no member alive past the call
	c.msg = c.msg[:0]
}

// resume runs once the room is no longer congested: it delivers what the
// client gathered, splits what it kept, and resumes reading, unless the
// room is congested again meanwhile. Own loop (the room schedules it).
func (c *Chat) resume() {
	if !c.blocked || c.lost {
		return
	}
	c.blocked = false
	if !c.flush() {
		return
	}
	// Reading first: the line receiver does not split while its transport
	// is paused. Nothing is read before this callback returns, and data that
	// arrives while the stash is not empty goes behind it (DataReceived).
	c.Transport().ResumeProducing()
	for c.stashOff < len(c.stash) {
		n := min(c.slice(), len(c.stash)-c.stashOff)
		data := c.stash[c.stashOff : c.stashOff+n]
		c.stashOff += n
		c.LineReceiver.DataReceived(data) // keep may replace c.stash
		if !c.flush() {
			return
		}
	}
	if cap(c.stash) > maxStash {
		c.stash = nil
	}
	c.stash, c.stashOff = c.stash[:0], 0
}

// maxStash is the largest stash buffer kept for reuse once empty.
const maxStash = 128 << 10

// Room is the set of clients of one chat, shared by every connection on
// every loop; its methods are safe from any goroutine. The zero value is an
// empty room.
type Room struct {
	mu      sync.Mutex
	members map[*Chat]*member
	nicks   map[string]*Chat // the nicknames chosen with NICK
	chosen  map[*Chat]string // the reverse of nicks

	fmu       sync.Mutex // guards congested and waiting; taken under a member's lock
	congested int        // members holding the senders up
	busy      atomic.Bool
	waiting   []*Chat // clients to resume when congested drops to 0
}

// Len returns the number of clients in the room. Any goroutine.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// join adds c, whose member is m, and returns the number of members, c
// included.
func (r *Room) join(c *Chat, m *member) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members == nil {
		r.members = make(map[*Chat]*member)
		r.nicks = make(map[string]*Chat)
		r.chosen = make(map[*Chat]string)
	}
	r.members[c] = m
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

// congest records that one more member is behind enough to hold the
// senders up. Any goroutine.
func (r *Room) congest() {
	r.fmu.Lock()
	r.congested++
	r.busy.Store(true)
	r.fmu.Unlock()
}

// decongest records that a member no longer holds the senders up; when
// none does, every waiting client is resumed on its loop. Any goroutine.
func (r *Room) decongest() {
	r.fmu.Lock()
	if r.congested--; r.congested > 0 {
		r.fmu.Unlock()
		return
	}
	r.busy.Store(false)
	ws := r.waiting
	r.waiting = nil
	r.fmu.Unlock()
	for _, c := range ws {
		// An error means the loop stopped: the client is going anyway.
		_ = c.Transport().Loop().CallSoon(c.resumeFn)
	}
}

// wait reports whether the room is congested, and then registers c to be
// resumed when it no longer is. Any goroutine.
func (r *Room) wait(c *Chat) bool {
	if !r.busy.Load() {
		return false
	}
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if r.congested == 0 {
		return false
	}
	r.waiting = append(r.waiting, c)
	return true
}

// Congested reports whether some member's send queue is over its soft
// limit while it keeps reading: senders then wait. Any goroutine.
func (r *Room) Congested() bool { return r.busy.Load() }

// others appends every member but c to dst and returns it.
func (r *Room) others(c *Chat, dst []*member) []*member {
	r.mu.Lock()
	defer r.mu.Unlock()
	for o, m := range r.members {
		if o != c {
			dst = append(dst, m)
		}
	}
	return dst
}
