//go:build !linux

package procfs

import "time"

// Read returns ErrUnsupported: there is no Linux /proc.
func Read(pid int) (Sample, error) { return Sample{PID: pid}, ErrUnsupported }

// ListenerPID returns ErrUnsupported: there is no Linux /proc.
func ListenerPID(port int) (int, error) { return 0, ErrUnsupported }

// Sockets returns ErrUnsupported: there is no Linux /proc.
func Sockets(pid int) (SocketCount, error) { return SocketCount{}, ErrUnsupported }

// StartTime returns ErrUnsupported: there is no Linux /proc.
func StartTime(pid int) (time.Time, error) { return time.Time{}, ErrUnsupported }
