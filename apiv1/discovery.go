package apiv1

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/internal/peer"
)

// maxDiscovery bounds a discovery file; a real one is a few hundred bytes.
const maxDiscovery = 1 << 20

// DiscoveryDirs lists the directories where agents write discovery files,
// best first: $XDG_RUNTIME_DIR/gdiag when XDG_RUNTIME_DIR is an absolute
// path, then os.TempDir()/gdiag-<uid>. probes.Start tries them in this
// order.
func DiscoveryDirs() []string {
	var dirs []string
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		dirs = append(dirs, filepath.Join(x, "gdiag"))
	}
	return append(dirs, filepath.Join(os.TempDir(), "gdiag-"+strconv.Itoa(os.Getuid())))
}

// FallbackDirPattern is the pattern (for os.MkdirTemp, or filepath.Glob)
// of the private directories an agent falls back to when every one of
// DiscoveryDirs is refused, for example because another user created
// os.TempDir()/gdiag-<uid> first: os.TempDir()/gdiag-<uid>-*. Discover and
// NewClient look in those of them that pass the trust rules.
func FallbackDirPattern() string {
	return filepath.Join(os.TempDir(), "gdiag-"+strconv.Itoa(os.Getuid())+"-*")
}

// searchDirs is where a client looks when no directory is given:
// DiscoveryDirs, then the private fallback directories of the user's own.
// A directory that matches the fallback pattern but is not private is
// left out without a word: anyone can create one under that name, and it
// is not one an agent of this user made.
func searchDirs() []string {
	dirs := DiscoveryDirs()
	fbs, _ := filepath.Glob(FallbackDirPattern())
	for _, d := range fbs {
		if peer.PrivateDir(d) == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// Discover returns the live agents whose discovery files lie in dir, or,
// when dir is empty, in DiscoveryDirs and the user's fallback directories
// (FallbackDirPattern), by PID. It reads only from a
// directory that is the current user's own with mode 0700 (see the
// package documentation), and only files that pass ReadDiscovery. What it
// skips as untrusted is in the error, which wraps ErrUntrusted; a missing
// directory is no error. The agents it could read are returned either way.
func Discover(dir string) ([]Discovery, error) {
	dirs := []string{dir}
	if dir == "" {
		dirs = searchDirs()
	}
	seen := map[int]bool{}
	var out []Discovery
	var errs []error
	for _, dir := range dirs {
		if err := trustedDir(dir); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".json")
			pid, err := strconv.Atoi(name)
			if !ok || err != nil || pid <= 0 || seen[pid] {
				continue
			}
			d, err := ReadDiscovery(filepath.Join(dir, e.Name()))
			switch {
			case err != nil:
				errs = append(errs, err)
			case d.PID == pid && peer.ProcessAlive(pid):
				seen[pid] = true
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, errors.Join(errs...)
}

// trustedDir checks that dir is a private directory of the current user.
func trustedDir(dir string) error {
	if err := peer.PrivateDir(dir); err != nil {
		if os.IsNotExist(err) {
			return err
		}
		return fmt.Errorf("%w: discovery directory %w", ErrUntrusted, err)
	}
	return nil
}

// ReadDiscovery reads the discovery file at path and sets its Path. The
// file must be a regular file, not a symlink, that belongs to the current
// user and holds at most 1 MiB; its size is checked before it is read, and
// the read stops at the limit whatever the file does meanwhile. It does
// not check the directory (Discover does). A file that fails a check is
// ErrUntrusted; one that is not a discovery file is a decoding error.
func ReadDiscovery(path string) (Discovery, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return Discovery{}, err
	}
	uid, ok := peer.FileOwner(fi)
	switch {
	case !fi.Mode().IsRegular():
		return Discovery{}, fmt.Errorf("%w: discovery file %s is not a regular file", ErrUntrusted, path)
	case !ok || uid != os.Getuid():
		return Discovery{}, fmt.Errorf("%w: discovery file %s belongs to another user (uid %d)", ErrUntrusted, path, uid)
	case fi.Size() > maxDiscovery:
		return Discovery{}, fmt.Errorf("%w: discovery file %s is %d bytes; at most %d", ErrUntrusted, path, fi.Size(), maxDiscovery)
	}
	f, err := os.Open(path)
	if err != nil {
		return Discovery{}, err
	}
	defer f.Close()
	// The file opened must be the one checked, not one swapped in since.
	if ofi, err := f.Stat(); err != nil || !os.SameFile(fi, ofi) {
		return Discovery{}, fmt.Errorf("%w: discovery file %s changed while it was read", ErrUntrusted, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxDiscovery+1))
	if err != nil {
		return Discovery{}, err
	}
	if len(b) > maxDiscovery {
		return Discovery{}, fmt.Errorf("%w: discovery file %s grew beyond %d bytes", ErrUntrusted, path, maxDiscovery)
	}
	var d Discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return Discovery{}, fmt.Errorf("discovery file %s: %w", path, err)
	}
	d.Path = path
	return d, nil
}
