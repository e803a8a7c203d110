//go:build unix

package peer

import (
	"errors"
	"io/fs"
	"syscall"
)

// FileOwner returns the uid that owns fi's file.
func FileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}

// ProcessAlive reports whether pid exists; EPERM means it exists but
// belongs to someone else.
func ProcessAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
