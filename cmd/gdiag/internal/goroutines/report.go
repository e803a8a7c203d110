package goroutines

import (
	"cmp"
	"fmt"
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
	// Depth shows only Depth frames of each stack, those that identify
	// it (see gdump.Group.Trim); 0 shows all.
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

// Report is one dump's goroutines grouped by identical state and stack,
// after the crash report that came with them: gdiag goroutines' --json
// output.
type Report struct {
	Source string `json:"source"` // the file, "stdin", or the target
	// Crash is the crash the dump came with, first because it is what a
	// reader looks for first; absent for a dump nothing crashed in.
	Crash             *Crash        `json:"crash,omitempty"`
	TotalGoroutines   int           `json:"totalGoroutines"`   // in the dump
	TotalGroups       int           `json:"totalGroups"`       // in the dump, before filters
	ByState           []StateCount  `json:"byState"`           // every goroutine by state, most first
	MatchedGoroutines int           `json:"matchedGoroutines"` // passing the filters
	MatchedGroups     int           `json:"matchedGroups"`     // passing the filters, before --top
	Groups            []gdump.Group `json:"groups"`            // largest first, at most --top, trimmed to --depth
	Notes             []string      `json:"notes,omitempty"`   // what the reader skipped, could not parse, or found cut
}

// Crash is a crash report as gdiag goroutines shows it: gdump's model of
// it, with the message in one line and what the traceback level hid.
type Crash struct {
	Message string      `json:"message"` // "panic: ...", "fatal error: ...", "SIGQUIT: quit"
	Level   gdump.Level `json:"level"`   // the GOTRACEBACK level the output shows
	Shown   string      `json:"shown"`   // what that level printed and what it hid, in a sentence
	gdump.Crash
	Exit string `json:"exit,omitempty"` // "exit status 2", go test's "FAIL\tpkg\t3.01s"
}

// StateCount is how many goroutines of a dump are in one state.
type StateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// NewReport groups the goroutines gs of a dump read from source and
// applies o. It never fails: an empty gs gives an empty report.
func NewReport(source string, gs []gdump.Goroutine, o Options) Report {
	c := newCollector(o, 0)
	for i := range gs {
		_ = c.add(&gs[i]) // no memory bound, no error
	}
	return c.report(source, &gdump.Dump{Count: len(gs)})
}

// collector builds a Report while a dump is read, keeping groups, not
// goroutines.
type collector struct {
	o          Options
	all, match gdump.Grouper
	byState    map[string]int
	matched    int
}

// newCollector returns a collector whose groups take at most maxBytes
// (estimated), half for all goroutines and half for those o keeps when o
// filters; 0 means no bound.
func newCollector(o Options, maxBytes int64) *collector {
	c := &collector{o: o, byState: map[string]int{}}
	if o.filtered() {
		maxBytes /= 2
	}
	c.all.MaxBytes, c.match.MaxBytes = maxBytes, maxBytes
	return c
}

// add counts and groups g; it fails only past the memory bound.
func (c *collector) add(g *gdump.Goroutine) error {
	c.byState[g.State]++
	if err := c.all.Add(g); err != nil {
		return err
	}
	if !c.o.filtered() {
		c.matched++
		return nil
	}
	if !c.o.keep(g) {
		return nil
	}
	c.matched++
	return c.match.Add(g)
}

// groups returns the groups that pass the filters, largest first.
func (c *collector) groups() []gdump.Group {
	if c.o.filtered() {
		return c.match.Groups()
	}
	return c.all.Groups()
}

// report builds the Report of dump d, whose goroutines c has seen.
func (c *collector) report(source string, d *gdump.Dump) Report {
	r := Report{Source: source, Crash: newCrash(d), TotalGoroutines: d.Count, TotalGroups: c.all.Len(),
		ByState: byState(c.byState), MatchedGoroutines: c.matched, Notes: notes(d)}
	groups := c.groups()
	r.MatchedGroups = len(groups)
	if c.o.Top > 0 && len(groups) > c.o.Top {
		groups = groups[:c.o.Top]
	}
	r.Groups = make([]gdump.Group, len(groups))
	for i, g := range groups {
		r.Groups[i] = g.Trim(c.o.Depth)
	}
	return r
}

func byState(n map[string]int) []StateCount {
	out := make([]StateCount, 0, len(n))
	for s, c := range n {
		out = append(out, StateCount{State: s, Count: c})
	}
	slices.SortFunc(out, func(a, b StateCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.State, b.State))
	})
	return out
}

// newCrash returns d's crash report as shown, nil without one.
func newCrash(d *gdump.Dump) *Crash {
	if d.Crash == nil {
		return nil
	}
	return &Crash{Message: d.Crash.Message(), Level: d.Level, Shown: shown(d), Crash: *d.Crash, Exit: d.Exit}
}

// shown says what the traceback level printed and what it hid.
func shown(d *gdump.Dump) string {
	switch d.Level {
	case gdump.LevelNone:
		return "GOTRACEBACK=none: the runtime printed no goroutine (run with GOTRACEBACK=all to see them)"
	case gdump.LevelSingle:
		return "GOTRACEBACK=single, the default: only the goroutine that crashed was printed, and any others were hidden (run with GOTRACEBACK=all to see them)"
	case gdump.LevelAll:
		return "every goroutine was printed, but not the runtime's own goroutines or runtime frames (GOTRACEBACK=system shows them)"
	case gdump.LevelSystem:
		return "every goroutine was printed, with runtime frames and the runtime's own goroutines (GOTRACEBACK=system or crash, or a runtime throw or fatal signal, which print that much)"
	}
	if d.Count == 0 && d.Crash != nil {
		return "no goroutine was left to print: main called runtime.Goexit and every other goroutine had exited"
	}
	return ""
}

// notes says what the reader skipped, could not parse, or found cut.
func notes(d *gdump.Dump) []string {
	var n []string
	if d.Truncated {
		n = append(n, "the input ends inside a goroutine's stack: it was cut, and the last goroutine is incomplete")
	}
	for _, p := range d.Problems {
		n = append(n, fmt.Sprintf("line %d: %s: %q", p.Line, p.Msg, p.Text))
	}
	if len(d.Problems) == gdump.MaxProblems {
		n = append(n, fmt.Sprintf("(only the first %d lines that did not parse are listed)", gdump.MaxProblems))
	}
	if d.Other > 0 {
		n = append(n, fmt.Sprintf("%s outside goroutines and the crash report were skipped (log lines, registers, go test's output)", plural(d.Other, "line")))
	}
	return n
}
