package gdump

import "strings"

// stdRoots are the first elements of the standard library's import
// paths, "vendor" included (golang.org/x packages vendored into it).
// Module paths start with a domain, which has a dot, so a path whose
// first element is one of these and has no dot is the standard library's.
var stdRoots = map[string]bool{
	"archive": true, "bufio": true, "builtin": true, "bytes": true, "cmp": true,
	"compress": true, "container": true, "context": true, "crypto": true,
	"database": true, "debug": true, "embed": true, "encoding": true,
	"errors": true, "expvar": true, "flag": true, "fmt": true, "go": true,
	"hash": true, "html": true, "image": true, "index": true, "internal": true,
	"io": true, "iter": true, "log": true, "maps": true, "math": true,
	"mime": true, "net": true, "os": true, "path": true, "plugin": true,
	"reflect": true, "regexp": true, "runtime": true, "slices": true,
	"sort": true, "strconv": true, "strings": true, "structs": true,
	"sync": true, "syscall": true, "testing": true, "text": true, "time": true,
	"unicode": true, "unique": true, "unsafe": true, "vendor": true, "weak": true,
}

// IsStd reports whether the frame's function belongs to the Go runtime
// or the standard library, by its package path: "net/http.(*conn).serve"
// and "internal/poll.runtime_pollWait" are, "main.main",
// "github.com/you/svc.Handle" and C functions of cgo frames are not.
func (f Frame) IsStd() bool {
	return isStdFunc(f.Func)
}

func isStdFunc(fn string) bool {
	root := fn
	if i := strings.IndexByte(fn, '/'); i >= 0 {
		root = fn[:i]
	} else if i := strings.IndexByte(fn, '.'); i >= 0 {
		root = fn[:i]
	} else {
		// "panic" is how tracebacks print runtime.gopanic; any other
		// word is a C symbol or "non-Go function".
		return fn == "panic"
	}
	return stdRoots[root]
}

// Trim returns g with at most n frames: the n that identify the group,
// which are the frames from the first one outside the runtime and the
// standard library outwards (a goroutine blocked in a read is told apart
// by the handler that reads, not by runtime_pollWait). When fewer than n
// frames follow that one, or no frame is outside the standard library,
// the last n frames are kept. InnerOmitted and OuterOmitted say how many
// frames were cut from each end. n <= 0, or n at least the number of
// frames, returns g unchanged.
func (g Group) Trim(n int) Group {
	if n <= 0 || n >= len(g.Frames) {
		return g
	}
	start := len(g.Frames) - n
	for i, f := range g.Frames {
		if !f.IsStd() {
			start = min(i, start)
			break
		}
	}
	g.InnerOmitted += start
	g.OuterOmitted += len(g.Frames) - start - n
	g.Frames = g.Frames[start : start+n : start+n]
	return g
}

// Where returns the frame that says where the goroutine's own code is:
// the first one outside the runtime and the standard library, or the
// first frame when all are theirs (a goroutine of net/http or of the
// runtime). It returns the zero Frame for a goroutine without frames.
func (g *Goroutine) Where() Frame {
	for _, f := range g.Frames {
		if !f.IsStd() {
			return f
		}
	}
	if len(g.Frames) > 0 {
		return g.Frames[0]
	}
	return Frame{}
}
