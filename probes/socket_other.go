//go:build !linux

package probes

import (
	"errors"
	"net"
)

// peerUID cannot ask the kernel for the peer's credentials with the
// standard library outside Linux, so every connection is refused there:
// use Options.TCPAddr with a token instead.
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.ErrUnsupported
}
