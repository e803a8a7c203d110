package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Where doctor keeps the flight-recorder traces it saves, and how many:
// the newest maxTraces files, at most maxTraceBytes together, so that a
// doctor run on every alert cannot fill a disk.
const (
	maxTraces     = 20
	maxTraceBytes = 256 << 20
	tracePrefix   = "gdiag-doctor-"
	traceSuffix   = ".trace"
)

// defaultTraceDir is os.UserCacheDir()/gdiag/doctor ($XDG_CACHE_HOME or
// ~/.cache on Linux), or the temporary directory when there is no cache
// directory.
func defaultTraceDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "gdiag", "doctor")
	}
	return filepath.Join(os.TempDir(), "gdiag-doctor")
}

// pruneTraces removes doctor's oldest traces in dir beyond maxTraces
// files or maxTraceBytes in all, never keep (the one just written). Other
// files in dir are not touched.
func pruneTraces(dir, keep string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type file struct {
		path string
		size int64
		mod  int64
	}
	var fs []file
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tracePrefix) || !strings.HasSuffix(e.Name(), traceSuffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		fs = append(fs, file{filepath.Join(dir, e.Name()), info.Size(), info.ModTime().UnixNano()})
	}
	// Newest first; the one just written always stays.
	slices.SortFunc(fs, func(a, b file) int {
		switch {
		case a.path == keep:
			return -1
		case b.path == keep:
			return 1
		case a.mod != b.mod:
			return int(min(max(b.mod-a.mod, -1), 1))
		}
		return strings.Compare(b.path, a.path)
	})
	var total int64
	var errs []error
	for i, f := range fs {
		total += f.size
		if i == 0 || i < maxTraces && total <= maxTraceBytes {
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
