package gdump

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Group is a set of goroutines with the same state and stack.
type Group struct {
	State     string        `json:"state"`
	Frames    []Frame       `json:"frames"` // the first goroutine's frames
	Count     int           `json:"count"`
	MinWait   time.Duration `json:"minWait"`
	MaxWait   time.Duration `json:"maxWait"`
	CreatedBy Frame         `json:"createdBy"`
	IDs       []uint64      `json:"ids"` // the first MaxIDs goroutine ids
}

// MaxIDs bounds Group.IDs, so a group of 100,000 stays small.
const MaxIDs = 10

// GroupGoroutines groups goroutines by state, stack (function, file and
// line of every frame; arguments and PC offsets are ignored) and creation
// site, largest group first, then by state and first function.
func GroupGoroutines(gs []Goroutine) []Group {
	idx := make(map[string]int)
	var groups []Group
	var key strings.Builder
	for i := range gs {
		g := &gs[i]
		key.Reset()
		key.WriteString(g.State)
		for _, f := range g.Frames {
			key.WriteByte(0)
			writeFrame(&key, f)
		}
		key.WriteByte(1)
		writeFrame(&key, g.CreatedBy)
		k := key.String()
		j, ok := idx[k]
		if !ok {
			j = len(groups)
			idx[k] = j
			groups = append(groups, Group{State: g.State, Frames: g.Frames, CreatedBy: g.CreatedBy, MinWait: g.Wait, MaxWait: g.Wait})
		}
		gr := &groups[j]
		gr.Count++
		gr.MinWait, gr.MaxWait = min(gr.MinWait, g.Wait), max(gr.MaxWait, g.Wait)
		if len(gr.IDs) < MaxIDs {
			gr.IDs = append(gr.IDs, g.ID)
		}
	}
	slices.SortStableFunc(groups, func(a, b Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.State, b.State); c != 0 {
			return c
		}
		return cmp.Compare(topFunc(a), topFunc(b))
	})
	return groups
}

func writeFrame(b *strings.Builder, f Frame) {
	b.WriteString(f.Func)
	b.WriteByte(' ')
	b.WriteString(f.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(f.Line))
}

func topFunc(g Group) string {
	if len(g.Frames) == 0 {
		return ""
	}
	return g.Frames[0].Func
}
