package gdump

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"slices"
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
//
// It hashes each goroutine's key fields instead of building a key string,
// and compares with the group's first goroutine only on a hash match, so
// grouping allocates per group rather than per goroutine.
func GroupGoroutines(gs []Goroutine) []Group {
	seed := maphash.MakeSeed()
	idx := make(map[uint64][]int) // hash to indexes in groups; collisions share a slot
	var groups []Group
	var h maphash.Hash
	h.SetSeed(seed)
	for i := range gs {
		g := &gs[i]
		k := hashKey(&h, g)
		j := -1
		for _, c := range idx[k] {
			if sameKey(&groups[c], g) {
				j = c
				break
			}
		}
		if j < 0 {
			j = len(groups)
			idx[k] = append(idx[k], j)
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

// hashKey hashes the fields that GroupGoroutines groups by.
func hashKey(h *maphash.Hash, g *Goroutine) uint64 {
	h.Reset()
	h.WriteString(g.State)
	for i := range g.Frames {
		hashFrame(h, &g.Frames[i])
	}
	h.WriteByte(1)
	hashFrame(h, &g.CreatedBy)
	return h.Sum64()
}

func hashFrame(h *maphash.Hash, f *Frame) {
	var b [9]byte
	h.WriteString(f.Func)
	h.WriteByte(0)
	h.WriteString(f.File)
	b[0] = 0
	binary.LittleEndian.PutUint64(b[1:], uint64(f.Line))
	h.Write(b[:])
}

// sameKey reports whether g belongs in gr: the same state, frames and
// creator, arguments and offsets aside.
func sameKey(gr *Group, g *Goroutine) bool {
	if gr.State != g.State || len(gr.Frames) != len(g.Frames) || !sameFrame(&gr.CreatedBy, &g.CreatedBy) {
		return false
	}
	for i := range g.Frames {
		if !sameFrame(&gr.Frames[i], &g.Frames[i]) {
			return false
		}
	}
	return true
}

func sameFrame(a, b *Frame) bool {
	return a.Line == b.Line && a.Func == b.Func && a.File == b.File
}

func topFunc(g Group) string {
	if len(g.Frames) == 0 {
		return ""
	}
	return g.Frames[0].Func
}
