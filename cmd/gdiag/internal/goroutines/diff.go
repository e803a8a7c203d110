package goroutines

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/gdump"
)

// Diff compares two dumps group by group: gdiag goroutines --diff's
// --json output. A group is the same in both dumps when its state, stack
// (function, file and line of every frame) and creator are the same.
type Diff struct {
	Before           string      `json:"before"` // the first dump's source
	After            string      `json:"after"`  // the second dump's source
	BeforeGoroutines int         `json:"beforeGoroutines"`
	AfterGoroutines  int         `json:"afterGoroutines"`
	Grow             int         `json:"grow"`   // the --grow threshold
	Grown            int         `json:"grown"`  // groups that grew by at least Grow
	Shrunk           int         `json:"shrunk"` // groups that shrank or vanished
	Groups           []DiffGroup `json:"groups"` // those that grew by at least Grow, most first, at most --top
}

// DiffGroup is one group that grew between the two dumps: the group as
// it is in the second dump, with its size in both.
type DiffGroup struct {
	Before int `json:"before"` // goroutines in the first dump; 0 for a new group
	After  int `json:"after"`
	Delta  int `json:"delta"` // After - Before
	gdump.Group
}

// NewDiff compares the goroutines of two dumps after applying o's
// filters to both; groups that grew by at least grow (at least 1) are
// listed. It never fails.
func NewDiff(before, after string, a, b []gdump.Goroutine, o Options, grow int) Diff {
	ca, cb := newCollector(o, 0), newCollector(o, 0)
	for i := range a {
		_ = ca.add(&a[i])
	}
	for i := range b {
		_ = cb.add(&b[i])
	}
	return newDiff(before, after, len(a), len(b), ca.groups(), cb.groups(), o, grow)
}

// newDiff compares the groups ga of a dump of na goroutines with the
// groups gb of one of nb.
func newDiff(before, after string, na, nb int, ga, gb []gdump.Group, o Options, grow int) Diff {
	grow = max(grow, 1)
	d := Diff{Before: before, After: after, BeforeGoroutines: na, AfterGoroutines: nb, Grow: grow, Groups: []DiffGroup{}}
	old := map[string]int{}
	for _, g := range ga {
		old[groupKey(g)] = g.Count
	}
	for _, g := range gb {
		k := groupKey(g)
		n, ok := old[k]
		delete(old, k)
		switch {
		case g.Count-n >= grow:
			d.Groups = append(d.Groups, DiffGroup{Before: n, After: g.Count, Delta: g.Count - n, Group: g.Trim(o.Depth)})
		case ok && g.Count < n:
			d.Shrunk++
		}
	}
	d.Shrunk += len(old) // groups gone from the second dump
	slices.SortStableFunc(d.Groups, func(x, y DiffGroup) int {
		return cmp.Or(cmp.Compare(y.Delta, x.Delta), cmp.Compare(y.After, x.After))
	})
	d.Grown = len(d.Groups)
	if o.Top > 0 && len(d.Groups) > o.Top {
		d.Groups = d.Groups[:o.Top]
	}
	return d
}

// groupKey identifies a group across dumps, as gdump groups within one:
// state, every frame's location, and the creator.
func groupKey(g gdump.Group) string {
	var b strings.Builder
	b.WriteString(g.State)
	for _, f := range g.Frames {
		writeKeyFrame(&b, f)
	}
	b.WriteByte(1)
	writeKeyFrame(&b, g.CreatedBy)
	return b.String()
}

func writeKeyFrame(b *strings.Builder, f gdump.Frame) {
	b.WriteByte(0)
	b.WriteString(f.Func)
	b.WriteByte(0)
	b.WriteString(f.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(f.Line))
	if f.File == "" && f.PC != 0 {
		b.WriteString(" pc=" + strconv.FormatUint(f.PC, 16)) // a cgo frame: the PC is its place
	}
}
