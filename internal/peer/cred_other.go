//go:build !linux

package peer

import (
	"errors"
	"net"
)

// Cred cannot ask the kernel for the peer's credentials with the standard
// library outside Linux: it always fails, and callers refuse the peer.
func Cred(*net.UnixConn) (uid, pid int, err error) {
	return -1, -1, errors.ErrUnsupported
}
