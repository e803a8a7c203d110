package gdump

import (
	"cmp"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"slices"
	"time"
)

// Group is a set of goroutines with the same state, stack and creator.
type Group struct {
	State     string        `json:"state"`  // as printed; SplitState gives status and wait reason
	Frames    []Frame       `json:"frames"` // the first goroutine's frames, innermost first
	Count     int           `json:"count"`
	MinWait   time.Duration `json:"minWait"` // the shortest wait in the group, minute resolution
	MaxWait   time.Duration `json:"maxWait"`
	CreatedBy Frame         `json:"createdBy"`
	IDs       []uint64      `json:"ids"` // the first MaxIDs goroutine ids
	// InnerOmitted and OuterOmitted count the frames Trim cut from the
	// innermost and the outermost end of Frames; 0 for an untrimmed group.
	InnerOmitted int `json:"innerFramesOmitted,omitempty"`
	OuterOmitted int `json:"outerFramesOmitted,omitempty"`
}

// Status is the runtime's status of the group's goroutines: "waiting",
// "running", "runnable", "syscall", ... (see SplitState).
func (g Group) Status() string { s, _ := SplitState(g.State); return s }

// WaitReason is why the group's goroutines wait, such as "chan
// receive"; empty when they are not waiting (see SplitState).
func (g Group) WaitReason() string { _, r := SplitState(g.State); return r }

// MaxIDs bounds Group.IDs, so a group of 100,000 stays small.
const MaxIDs = 10

// ErrTooManyGroups is returned by Grouper.Add when the distinct stacks
// would take more memory than Grouper.MaxBytes.
var ErrTooManyGroups = errors.New("gdump: too many distinct stacks")

// GroupGoroutines groups goroutines by state, stack (function, file and
// line of every frame; arguments and PC offsets are ignored) and creation
// site, largest group first, then by state and first function.
func GroupGoroutines(gs []Goroutine) []Group {
	var gr Grouper
	for i := range gs {
		_ = gr.Add(&gs[i]) // no MaxBytes, no error
	}
	return gr.Groups()
}

// Grouper groups goroutines one at a time, as Scan reads them, keeping
// one copy of each distinct stack, so that the memory it takes grows
// with the number of groups, not of goroutines. The zero value is ready
// to use. A Grouper is not safe for concurrent use.
//
// It hashes each goroutine's key fields instead of building a key string,
// and compares with the group's first goroutine only on a hash match, so
// grouping allocates per group rather than per goroutine.
type Grouper struct {
	// MaxBytes bounds the memory the groups take (estimated from their
	// frames and strings); Add fails with ErrTooManyGroups beyond it.
	// 0 means no bound.
	MaxBytes int64

	seed   maphash.Seed
	h      maphash.Hash
	idx    map[uint64][]int // hash to indexes in groups; collisions share a slot
	groups []Group
	bytes  int64
}

// Add puts g in its group, copying what the group keeps of it (g may be
// reused afterwards). It fails only when a new group would exceed
// MaxBytes, and then leaves the groups as they were.
func (gr *Grouper) Add(g *Goroutine) error {
	if gr.idx == nil {
		gr.seed = maphash.MakeSeed()
		gr.h.SetSeed(gr.seed)
		gr.idx = make(map[uint64][]int)
	}
	k := hashKey(&gr.h, g)
	j := -1
	for _, c := range gr.idx[k] {
		if sameKey(&gr.groups[c], g) {
			j = c
			break
		}
	}
	if j < 0 {
		size := groupSize(g)
		if gr.MaxBytes > 0 && gr.bytes+size > gr.MaxBytes {
			return ErrTooManyGroups
		}
		gr.bytes += size
		j = len(gr.groups)
		gr.idx[k] = append(gr.idx[k], j)
		gr.groups = append(gr.groups, Group{State: g.State, Frames: slices.Clip(slices.Clone(g.Frames)),
			CreatedBy: g.CreatedBy, MinWait: g.Wait, MaxWait: g.Wait})
	}
	grp := &gr.groups[j]
	grp.Count++
	grp.MinWait, grp.MaxWait = min(grp.MinWait, g.Wait), max(grp.MaxWait, g.Wait)
	if len(grp.IDs) < MaxIDs {
		grp.IDs = append(grp.IDs, g.ID)
	}
	return nil
}

// groupSize estimates the bytes a new group for g keeps: the Group, its
// index entries and ids, its frames and strings (counted even when
// shared), and room for the slices' growth.
func groupSize(g *Goroutine) int64 {
	n := int64(400 + len(g.State) + len(g.CreatedBy.Func) + len(g.CreatedBy.File))
	for i := range g.Frames {
		f := &g.Frames[i]
		n += int64(80 + len(f.Func) + len(f.File) + len(f.Args))
	}
	return n
}

// Len returns the number of groups so far.
func (gr *Grouper) Len() int { return len(gr.groups) }

// Groups returns the groups so far, largest first, then by state and
// first function.
func (gr *Grouper) Groups() []Group {
	out := slices.Clone(gr.groups)
	slices.SortStableFunc(out, func(a, b Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.State, b.State); c != 0 {
			return c
		}
		return cmp.Compare(topFunc(a), topFunc(b))
	})
	return out
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
	var b [17]byte
	h.WriteString(f.Func)
	h.WriteByte(0)
	h.WriteString(f.File)
	binary.LittleEndian.PutUint64(b[1:], uint64(f.Line))
	if f.File == "" {
		binary.LittleEndian.PutUint64(b[9:], f.PC) // a cgo frame: the PC is its place
	}
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
	return a.Line == b.Line && a.Func == b.Func && a.File == b.File && (a.File != "" || a.PC == b.PC)
}

func topFunc(g Group) string {
	if len(g.Frames) == 0 {
		return ""
	}
	return g.Frames[0].Func
}
