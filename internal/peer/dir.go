package peer

import (
	"fmt"
	"os"
)

// PrivateDir checks that dir is a directory, not a symlink, that belongs
// to the current user and that no one else can enter (no group or other
// permission bits): the only kind of directory an agent puts its socket
// in and a client reads discovery files from.
func PrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	uid, ok := FileOwner(fi)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case !ok || uid != os.Getuid():
		return fmt.Errorf("%s belongs to another user (uid %d)", dir, uid)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s has mode %v; want 0700", dir, fi.Mode().Perm())
	}
	return nil
}
