package reactor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/panjf2000/gnet/v2/pkg/socket"
	"golang.org/x/sys/unix"

	"github.com/whirl-go/whirl/factory"
)

// ErrLocked is returned by ListenUnix when the socket's lock file is held by
// a live process: another server owns the path.
var ErrLocked = errors.New("reactor: UNIX socket is locked by a live process")

// unixListen is what a UNIX port must clean up: its socket file and lock.
type unixListen struct {
	path string // "" for an abstract name
	lock string // the lock file, or ""
	ino  uint64 // the socket file we created, to remove only that one
}

// ListenUnix listens on the UNIX socket path and serves it with f: Twisted's
// listenUNIX. A path starting with "@" is a name in Linux's abstract
// namespace (no file). The socket file gets the permission bits mode (0
// means 0666, Twisted's default) and is removed by StopListening (or Stop),
// with its lock file if WithUnixLock is on. opts override the reactor's
// options for this port's connections. As with ListenTCP, StartFactory runs
// here if this is the factory's first port, and the port works before Run.
// Accepted connections' RemoteAddr is a *UnixPeer. Any goroutine.
func (r *Reactor) ListenUnix(path string, f factory.Factory, mode os.FileMode, opts ...Option) (*Port, error) {
	if f == nil {
		return nil, errors.New("reactor: ListenUnix with a nil factory")
	}
	if path == "" || path == "@" {
		return nil, errors.New("reactor: ListenUnix with an empty path")
	}
	cfg, err := r.cfg.derive(opts)
	if err != nil {
		return nil, err
	}
	return r.listen(f, cfg, func() (int, net.Addr, *unixListen, error) {
		return listenUnixSocket(path, mode, cfg)
	})
}

func listenUnixSocket(path string, mode os.FileMode, cfg *config) (int, net.Addr, *unixListen, error) {
	ul := &unixListen{}
	abstract := strings.HasPrefix(path, "@")
	if !abstract {
		ul.path = path
		if cfg.unixLock {
			stale, err := takeLock(path + ".lock")
			if err != nil {
				return -1, nil, nil, err
			}
			ul.lock = path + ".lock"
			if stale {
				// The lock's owner died: the socket file it left is stale.
				if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
					_ = os.Remove(path)
				}
			}
		}
	}
	opts := bufferOpts(cfg)[1:] // SO_REUSEADDR means nothing for UNIX sockets
	fd, _, err := socket.UnixSocket("unix", path, true, opts, nil)
	if err != nil {
		if ul.lock != "" {
			_ = os.Remove(ul.lock)
		}
		return -1, nil, nil, fmt.Errorf("reactor: listen on %s: %w", path, err)
	}
	if err := setBacklog(fd, cfg); err != nil {
		ul.remove()
		return -1, nil, nil, err
	}
	if !abstract {
		mode := mode.Perm()
		if mode == 0 {
			mode = 0o666
		}
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err == nil {
			ul.ino = st.Ino
		}
		if err := os.Chmod(path, mode); err != nil {
			unix.Close(fd)
			ul.remove()
			return -1, nil, nil, fmt.Errorf("reactor: listen on %s: %w", path, err)
		}
	}
	return fd, &net.UnixAddr{Name: path, Net: "unix"}, ul, nil
}

// remove removes the socket file (if it is still the one we bound) and the
// lock file.
func (ul *unixListen) remove() {
	if ul.path != "" && ul.ino != 0 {
		var st unix.Stat_t
		if err := unix.Stat(ul.path, &st); err == nil && st.Ino == ul.ino {
			_ = os.Remove(ul.path)
		}
	}
	if ul.lock != "" {
		_ = os.Remove(ul.lock)
	}
}

// takeLock takes the lock file name, a symbolic link to our PID. It reports
// whether the lock was taken over from a dead process.
func takeLock(name string) (stale bool, err error) {
	me := strconv.Itoa(os.Getpid())
	for range 3 {
		err := os.Symlink(me, name)
		if err == nil {
			return stale, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return false, fmt.Errorf("reactor: lock %s: %w", name, err)
		}
		target, rerr := os.Readlink(name)
		if rerr != nil {
			if errors.Is(rerr, os.ErrNotExist) {
				continue // released meanwhile
			}
			return false, fmt.Errorf("reactor: lock %s: %w", name, rerr)
		}
		pid, perr := strconv.Atoi(target)
		if perr == nil && pid > 0 && processAlive(pid) {
			return false, fmt.Errorf("%w: %s held by PID %d", ErrLocked, name, pid)
		}
		// The owner is gone (or the lock is garbage): take it over.
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("reactor: lock %s: %w", name, err)
		}
		stale = true
	}
	return false, fmt.Errorf("%w: %s keeps changing hands", ErrLocked, name)
}

// lockHeld reports whether a live process holds the lock file name
// (Twisted's checkPID).
func lockHeld(name string) bool {
	target, err := os.Readlink(name)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(target)
	return err == nil && pid > 0 && processAlive(pid)
}

// processAlive reports whether a process with that PID exists (signal 0;
// EPERM means it exists but belongs to someone else) and is not a zombie (a
// server that crashed a moment ago, not yet reaped by its parent).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !zombie(pid)
}

// UnixPeer is the RemoteAddr of a connection accepted on a UNIX port: the
// peer's socket name (usually empty: clients rarely bind one) and, where the
// system tells (Linux's SO_PEERCRED), the peer process's credentials. Any
// goroutine may use it.
type UnixPeer struct {
	// Name is the peer's bound name, often "".
	Name string
	// PID, UID and GID identify the peer process; PID is 0 when unknown.
	PID, UID, GID int
}

// Network returns "unix". Any goroutine.
func (a *UnixPeer) Network() string { return "unix" }

// String returns the name if the peer has one, else "pid=P,uid=U,gid=G",
// else "@unnamed". Any goroutine.
func (a *UnixPeer) String() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.PID != 0:
		return "pid=" + strconv.Itoa(a.PID) + ",uid=" + strconv.Itoa(a.UID) + ",gid=" + strconv.Itoa(a.GID)
	}
	return "@unnamed"
}

// unixPeer describes an accepted UNIX connection's peer.
func unixPeer(fd int, sa unix.Sockaddr) net.Addr {
	a := &UnixPeer{}
	if su, ok := sa.(*unix.SockaddrUnix); ok {
		a.Name = su.Name
	}
	a.PID, a.UID, a.GID = peerCred(fd)
	return a
}
