package reactor

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/transport"
)

// received handles bytes read from the socket. Loop goroutine, inside a dispatch.
func (c *conn) received(data []byte) {
	if x := c.x.Load(); x != nil {
		if x.idleTimer != nil {
			x.lastRead = time.Now()
		}
		if len(x.inbuf) > 0 {
			c.hold(x, data)
			return
		}
	}
	if c.readPaused.Load() {
		c.hold(c.ext(), data)
		return
	}
	c.deliver(data)
}

func (c *conn) deliver(data []byte) {
	defer c.recoverPanic("DataReceived")
	c.proto.DataReceived(data)
}

// hold keeps data received while paused, within the bound, and makes sure
// the socket is not read further.
func (c *conn) hold(x *connExt, data []byte) {
	r := c.r()
	if len(x.inbuf)+len(data) > r.cfg.maxPaused {
		r.log.Warn().Stringer("peer", c.remote).Int("max", r.cfg.maxPaused).Msg("paused connection received too much; aborting")
		c.abortNow(transport.Aborted(fmt.Errorf("%w: more than %d bytes", transport.ErrReadBufferOverflow, r.cfg.maxPaused)))
		return
	}
	x.inbuf = append(x.inbuf, data...)
	if c.readPaused.Load() {
		c.setReadInterest(false)
	}
}

// reconcileRead applies PauseProducing/ResumeProducing. Loop goroutine.
func (c *conn) reconcileRead() {
	if c.readPaused.Load() {
		if !c.lflag(fEpollPaused) {
			c.setReadInterest(false)
		}
		return
	}
	x := c.x.Load()
	if x != nil && len(x.inbuf) > 0 && c.proto != nil && c.state.Load() == stateOpen {
		buf := x.inbuf
		x.inbuf = nil
		c.deliver(buf)
		if c.isGone() || c.lflag(fCloseOnReturn) {
			return
		}
		if c.readPaused.Load() {
			return // paused again while delivering
		}
	}
	if c.lflag(fEpollPaused) {
		c.setReadInterest(true)
	}
	if x != nil && x.idleTimer != nil {
		x.lastRead = time.Now() // a paused connection was not idle
	}
}

// setReadInterest turns reading from the socket on or off in the loop's epoll
// set. gnet registers a connection for EPOLLIN|EPOLLPRI, plus EPOLLOUT while
// its outbound buffer is not empty, level-triggered, with the descriptor as
// the event's data; whirl keeps that shape and only drops the read events.
// gnet itself turns reading back on when it starts or stops buffering output;
// whirl turns it off again after its own writes and when data slips in.
// Without the loop's epoll descriptor, a pause only stops delivery, bounded
// by WithMaxPausedReadBuffer. Loop goroutine.
func (c *conn) setReadInterest(on bool) {
	c.setL(fEpollPaused, !on)
	if c.l.epfd < 0 {
		return
	}
	var ev uint32
	if on {
		ev = unix.EPOLLIN | unix.EPOLLPRI
	}
	if c.gc.OutboundBuffered() > 0 {
		ev |= unix.EPOLLOUT
	}
	fd := c.gc.Fd()
	err := unix.EpollCtl(c.l.epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
	if err != nil {
		c.r().log.Warn().Err(err).Stringer("peer", c.remote).Msg("epoll_ctl for read pause failed")
	}
}

// checkIdle closes the connection when nothing was received for the idle
// timeout. Loop goroutine.
func (c *conn) checkIdle() {
	if c.isGone() || c.state.Load() != stateOpen {
		return
	}
	r, x := c.r(), c.ext()
	d := r.cfg.idleTimeout
	idle := time.Since(x.lastRead)
	if c.readPaused.Load() || idle < d {
		x.idleTimer.Reset(d - min(idle, d) + time.Millisecond)
		return
	}
	r.log.Debug().Stringer("peer", c.remote).Dur("idle", idle).Msg("read idle timeout")
	x.loseReason = fmt.Errorf("%w: %w", transport.ErrConnectionDone, transport.ErrIdleTimeout)
	c.LoseConnection()
}

// findEpoll returns the descriptor of the epoll set behind a gnet loop, or -1.
// gnet does not expose it: whirl reads it from the loop's poller (gnet v2.9.7's
// eventloop.poller.fd) and checks that it is an epoll set that holds probe, a
// descriptor gnet registered on that loop. The check runs once per loop at
// start-up; a gnet upgrade that changes the layout makes it fail, and read
// pauses fall back to bounded buffering (logged).
func findEpoll(el gnet.EventLoop, probe int) (int, error) {
	v := reflect.ValueOf(el)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return -1, fmt.Errorf("event loop is a %T", el)
	}
	poller := v.Elem().FieldByName("poller")
	if !poller.IsValid() || poller.Kind() != reflect.Pointer || poller.IsNil() {
		return -1, fmt.Errorf("no poller in %T", el)
	}
	fdv := poller.Elem().FieldByName("fd")
	if !fdv.IsValid() || fdv.Kind() != reflect.Int {
		return -1, fmt.Errorf("no descriptor in the poller of %T", el)
	}
	fd := int(fdv.Int())
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || link != "anon_inode:[eventpoll]" {
		return -1, fmt.Errorf("descriptor %d is %q, not an epoll set", fd, link)
	}
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return -1, err
	}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "tfd:" && f[1] == strconv.Itoa(probe) {
			return fd, nil
		}
	}
	return -1, fmt.Errorf("epoll set %d does not hold the loop's connection %d", fd, probe)
}
