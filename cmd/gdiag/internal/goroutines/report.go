package goroutines

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/gdump"
)

// Options selects and trims the groups of a report. The zero value keeps
// every goroutine and shows every group with its whole stack.
type Options struct {
	// State keeps goroutines whose state contains it, ignoring case:
	// "chan" matches "chan receive" and "chan send".
	State string
	// Pkg keeps goroutines with a stack frame in a package whose import
	// path is Pkg or starts with Pkg + "/" ("main", "net/http",
	// "github.com/you/svc/internal"). The "created by" frame does not count.
	Pkg string
	// MinWait keeps goroutines blocked at least this long. The runtime
	// prints wait times in whole minutes and only from one minute on, so
	// a goroutine without one counts as blocked 0.
	MinWait time.Duration
	// Top limits the report to the Top largest groups; 0 shows all.
	Top int
	// Depth shows only the first Depth frames of each stack; 0 shows all.
	Depth int
}

// filtered reports whether o drops any goroutine.
func (o Options) filtered() bool { return o.State != "" || o.Pkg != "" || o.MinWait > 0 }

// keep reports whether g passes o's filters.
func (o Options) keep(g *gdump.Goroutine) bool {
	if o.MinWait > 0 && g.Wait < o.MinWait {
		return false
	}
	if o.State != "" && !containsFold(g.State, o.State) {
		return false
	}
	return o.Pkg == "" || slices.ContainsFunc(g.Frames, func(f gdump.Frame) bool { return inPkg(f.Func, o.Pkg) })
}

// inPkg reports whether the function fn ("net/http.(*conn).serve") is in
// the package pkg or below it. Matching on the function's text rather
// than on a parsed package path keeps "gopkg.in/yaml.v3" working.
func inPkg(fn, pkg string) bool {
	rest, ok := strings.CutPrefix(fn, pkg)
	return ok && rest != "" && (rest[0] == '.' || rest[0] == '/')
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// Report is one dump's goroutines grouped by identical state and stack:
// gdiag goroutines' --json output.
type Report struct {
	Source            string       `json:"source"`            // the file, "-" for stdin, or the target
	TotalGoroutines   int          `json:"totalGoroutines"`   // in the dump
	TotalGroups       int          `json:"totalGroups"`       // in the dump, before filters
	ByState           []StateCount `json:"byState"`           // every goroutine by state, most first
	MatchedGoroutines int          `json:"matchedGoroutines"` // passing the filters
	MatchedGroups     int          `json:"matchedGroups"`     // passing the filters, before --top
	Groups            []Group      `json:"groups"`            // largest first, at most --top
}

// StateCount is how many goroutines of a dump are in one state.
type StateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// Stack is what the goroutines of a group share.
type Stack struct {
	State         string  `json:"state"`                   // status or wait reason: "chan receive"
	Frames        []Frame `json:"frames"`                  // innermost call first
	FramesOmitted int     `json:"framesOmitted,omitempty"` // frames cut by --depth
	CreatedBy     *Frame  `json:"createdBy,omitempty"`     // the go statement; absent for main and runtime goroutines
}

// Frame is one call of a stack: the function and where it is.
type Frame struct {
	Func string `json:"func"` // package-qualified: "main.(*server).handle"
	File string `json:"file"`
	Line int    `json:"line"`
}

// Group is a set of goroutines with the same state, stack and creator.
type Group struct {
	Count int `json:"count"`
	Stack
	// MinWaitSeconds and MaxWaitSeconds are the shortest and longest
	// blocked times in the group, whole minutes as the runtime prints them;
	// 0 for goroutines blocked under a minute or not blocked.
	MinWaitSeconds int64    `json:"minWaitSeconds"`
	MaxWaitSeconds int64    `json:"maxWaitSeconds"`
	IDs            []uint64 `json:"ids"` // the first few goroutine ids
}

// NewReport groups the goroutines gs of a dump read from source and
// applies o. It never fails: an empty gs gives an empty report.
func NewReport(source string, gs []gdump.Goroutine, o Options) Report {
	all := gdump.GroupGoroutines(gs)
	r := Report{Source: source, TotalGoroutines: len(gs), TotalGroups: len(all), ByState: byState(all)}
	groups := all
	if o.filtered() {
		groups = gdump.GroupGoroutines(filter(gs, o))
	}
	r.MatchedGroups = len(groups)
	for _, g := range groups {
		r.MatchedGoroutines += g.Count
	}
	if o.Top > 0 && len(groups) > o.Top {
		groups = groups[:o.Top]
	}
	r.Groups = make([]Group, len(groups))
	for i, g := range groups {
		r.Groups[i] = Group{
			Count:          g.Count,
			Stack:          newStack(g, o.Depth),
			MinWaitSeconds: int64(g.MinWait / time.Second),
			MaxWaitSeconds: int64(g.MaxWait / time.Second),
			IDs:            g.IDs,
		}
	}
	return r
}

// filter returns the goroutines of gs that o keeps.
func filter(gs []gdump.Goroutine, o Options) []gdump.Goroutine {
	var out []gdump.Goroutine
	for i := range gs {
		if o.keep(&gs[i]) {
			out = append(out, gs[i])
		}
	}
	return out
}

func byState(groups []gdump.Group) []StateCount {
	n := map[string]int{}
	for _, g := range groups {
		n[g.State] += g.Count
	}
	out := make([]StateCount, 0, len(n))
	for s, c := range n {
		out = append(out, StateCount{State: s, Count: c})
	}
	slices.SortFunc(out, func(a, b StateCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.State, b.State))
	})
	return out
}

// newStack converts g's stack, keeping its first depth frames (all when 0).
func newStack(g gdump.Group, depth int) Stack {
	s := Stack{State: g.State, Frames: make([]Frame, 0, len(g.Frames))}
	for i, f := range g.Frames {
		if depth > 0 && i == depth {
			s.FramesOmitted = len(g.Frames) - depth
			break
		}
		s.Frames = append(s.Frames, Frame{Func: f.Func, File: f.File, Line: f.Line})
	}
	if g.CreatedBy.Func != "" {
		s.CreatedBy = &Frame{Func: g.CreatedBy.Func, File: g.CreatedBy.File, Line: g.CreatedBy.Line}
	}
	return s
}
