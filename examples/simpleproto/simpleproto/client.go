package simpleproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/whirl-go/whirl/factory"
	"github.com/whirl-go/whirl/protocol"
	"github.com/whirl-go/whirl/reactor"
	"github.com/whirl-go/whirl/transport"
)

// ClientConfig is a run of clients, gnet's client's flags.
type ClientConfig struct {
	// Addr is the server's host:port.
	Addr string
	// Conns is the number of clients, each on its own connection
	// (gnet's --concurrency). 0 means 1.
	Conns int
	// Size is each packet's body size in bytes (--packet_size). 0 means 1024.
	Size int
	// Batch is the number of packets sent in one write before their echoes
	// are read (--packet_batch). 0 means 100.
	Batch int
	// Count is the number of batches each client sends (--packet_count).
	// 0 means 100.
	Count int
	// Seed seeds the random bodies; clients differ by their number.
	Seed uint64
}

func (c *ClientConfig) defaults() error {
	if c.Conns == 0 {
		c.Conns = 1
	}
	if c.Size == 0 {
		c.Size = 1024
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.Count == 0 {
		c.Count = 100
	}
	if c.Addr == "" || c.Conns < 0 || c.Size < 0 || c.Size > DefaultMaxLength || c.Batch < 0 || c.Count < 0 {
		return fmt.Errorf("%w: address %q, %d clients, %d-byte packets, batches of %d, %d batches", ErrConfig, c.Addr, c.Conns, c.Size, c.Batch, c.Count)
	}
	return nil
}

// ClientResult is what a run of clients did.
type ClientResult struct {
	// Clients is the number of clients that sent every batch and got every
	// echo back, intact.
	Clients int
	// Packets is the number of echoes checked, over every client.
	Packets int64
	// Errors holds why each failed client failed.
	Errors []error
}

// RunClients runs cfg.Conns clients on a reactor of their own (made with
// opts) until each has sent cfg.Count batches of cfg.Batch packets and
// checked their echoes, or failed, or ctx ends; then it stops the reactor.
// The error is for a run that could not be made (a bad config, ctx ending);
// the clients' own failures are in the result. Any goroutine; it blocks.
func RunClients(ctx context.Context, cfg ClientConfig, opts ...reactor.Option) (ClientResult, error) {
	if err := cfg.defaults(); err != nil {
		return ClientResult{}, err
	}
	r := reactor.New(opts...)
	f := &ClientFactory{cfg: cfg, left: cfg.Conns, done: make(chan struct{})}
	for range cfg.Conns {
		if _, err := r.ConnectTCP(ctx, cfg.Addr, f); err != nil {
			return ClientResult{}, err
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(rctx) }()
	var err error
	select {
	case <-f.done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	if rerr := <-ran; err == nil {
		err = rerr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.res, err
}

// ClientFactory makes a [Client] per connection and adds up their results.
// Made by RunClients.
type ClientFactory struct {
	factory.ClientBase
	cfg  ClientConfig
	mu   sync.Mutex
	n    uint64 // clients made
	res  ClientResult
	left int // connections not yet ended
	done chan struct{}
}

// BuildProtocol returns a new Client. Connector's loop.
func (f *ClientFactory) BuildProtocol(net.Addr) protocol.Protocol {
	f.mu.Lock()
	f.n++
	id := f.n
	f.mu.Unlock()
	return &Client{f: f, rng: rand.New(rand.NewPCG(f.cfg.Seed, id))}
}

// ClientConnectionFailed counts a client that could not connect. Connector's
// loop.
func (f *ClientFactory) ClientConnectionFailed(_ factory.Connector, reason error) {
	f.end(0, reason)
}

// end records a client's end: its packets and, if it failed, why.
func (f *ClientFactory) end(packets int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res.Packets += packets
	if err != nil {
		f.res.Errors = append(f.res.Errors, err)
	} else {
		f.res.Clients++
	}
	if f.left--; f.left == 0 {
		close(f.done)
	}
}

// Client is one client: it waits for Greeting, then sends batches of random
// packets in one write each and checks every echo before the next batch.
// Its methods run on the connection's loop.
type Client struct {
	protocol.Base
	f       *ClientFactory
	rng     *rand.Rand
	greeted []byte // the greeting so far
	dec     Decoder
	sent    []byte // the current batch, as written
	off     int    // offset in sent of the next expected echo
	left    int    // echoes the current batch still expects
	batches int
	packets int64
	err     error
}

// ConnectionMade waits for the greeting. Loop goroutine.
func (c *Client) ConnectionMade() {}

// DataReceived checks the greeting, then the echoes; a batch complete sends
// the next one, the last one closes the connection. Loop goroutine.
func (c *Client) DataReceived(data []byte) {
	if len(c.greeted) < len(Greeting) {
		n := min(len(Greeting)-len(c.greeted), len(data))
		c.greeted = append(c.greeted, data[:n]...)
		data = data[n:]
		if !bytes.HasPrefix([]byte(Greeting), c.greeted) {
			c.fail(fmt.Errorf("%w: %q", ErrGreeting, c.greeted))
			return
		}
		if len(c.greeted) < len(Greeting) {
			return
		}
		c.send()
	}
	if err := c.dec.Feed(data, c); err != nil {
		if !errors.Is(err, errDone) {
			c.fail(err)
		}
	}
}

// errDone stops the decoder after the last echo.
var errDone = errors.New("simpleproto: done")

// PacketReceived checks an echo against the packet sent. Loop goroutine.
func (c *Client) PacketReceived(body []byte) error {
	if c.left == 0 {
		return fmt.Errorf("%w: an echo of a packet not sent", ErrMismatch)
	}
	end := c.off + HeaderLen + len(body)
	if end > len(c.sent) || !bytes.Equal(body, c.sent[c.off+HeaderLen:end]) {
		return fmt.Errorf("%w: batch %d, packet %d", ErrMismatch, c.batches, c.f.cfg.Batch-c.left)
	}
	c.off = end
	c.left--
	c.packets++
	if c.left > 0 {
		return nil
	}
	if c.batches++; c.batches == c.f.cfg.Count {
		c.Transport().LoseConnection()
		return errDone
	}
	c.send()
	return nil
}

// send writes the next batch.
func (c *Client) send() {
	c.sent = c.sent[:0]
	body := make([]byte, c.f.cfg.Size)
	for range c.f.cfg.Batch {
		for i := range body {
			body[i] = byte(c.rng.Uint32())
		}
		c.sent = AppendPacket(c.sent, body)
	}
	c.off, c.left = 0, c.f.cfg.Batch
	_, _ = c.Transport().Write(c.sent)
}

func (c *Client) fail(err error) {
	if c.err == nil {
		c.err = err
		c.Transport().CloseWithError(err)
	}
}

// ConnectionLost reports the client's end to its factory: a failure unless
// every batch came back. Loop goroutine.
func (c *Client) ConnectionLost(reason error) {
	err := c.err
	if err == nil && c.batches < c.f.cfg.Count {
		err = fmt.Errorf("simpleproto: connection lost after %d of %d batches: %w", c.batches, c.f.cfg.Count, reason)
	}
	if err == nil && !errors.Is(reason, transport.ErrConnectionDone) {
		err = reason
	}
	c.f.end(c.packets, err)
}
