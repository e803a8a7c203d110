//go:build !linux

package procfs

// Read returns ErrUnsupported: there is no Linux /proc.
func Read(pid int) (Sample, error) { return Sample{PID: pid}, ErrUnsupported }

// ListenerPID returns ErrUnsupported: there is no Linux /proc.
func ListenerPID(port int) (int, error) { return 0, ErrUnsupported }

// Sockets returns ErrUnsupported: there is no Linux /proc.
func Sockets(pid int) (SocketCount, error) { return SocketCount{}, ErrUnsupported }
