package probes

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/gdiag/gdiag/gdump"
)

// CensusOptions filter a goroutine census. The zero value keeps every
// goroutine and every group.
type CensusOptions struct {
	// MinWait keeps only goroutines blocked at least this long. The
	// runtime reports waits in whole minutes, so any value up to one
	// minute keeps goroutines waiting one minute or more.
	MinWait time.Duration
	// State keeps only goroutines whose State or WaitReason equals it,
	// such as "running", "waiting" or "chan receive".
	State string
	// MaxGroups keeps the largest groups only; 0 keeps all.
	MaxGroups int
}

// Census counts the process's goroutines, grouped by state and stack.
type Census struct {
	Time       time.Time     `json:"time"`
	Goroutines int           `json:"goroutines"` // all goroutines in the dump
	Matched    int           `json:"matched"`    // goroutines kept by the options
	Groups     []CensusGroup `json:"groups"`     // largest first
	Omitted    int           `json:"omitted"`    // groups dropped by MaxGroups
}

// CensusGroup is a set of goroutines with the same state, stack and
// creation site.
type CensusGroup struct {
	State      string        `json:"state"`                // "waiting", "running", "runnable", "syscall", ...
	WaitReason string        `json:"waitReason,omitempty"` // e.g. "chan receive"; empty unless waiting
	Count      int           `json:"count"`
	MinWait    time.Duration `json:"minWait"`
	MaxWait    time.Duration `json:"maxWait"`
	Stack      []Frame       `json:"stack"`
	CreatedBy  Frame         `json:"createdBy"`
	IDs        []uint64      `json:"ids"` // up to 10 goroutine ids
}

// Frame is one call in a stack.
type Frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// notWaiting are the goroutine statuses the runtime prints as such; any
// other bracketed state is a wait reason of a waiting goroutine.
var notWaiting = map[string]bool{
	"idle": true, "runnable": true, "running": true, "syscall": true,
	"dead": true, "copystack": true, "preempted": true,
}

// splitState turns a dump's bracketed state into a status and a wait
// reason ("chan receive" → "waiting", "chan receive").
func splitState(s string) (state, reason string) {
	base, _, _ := strings.Cut(s, " (") // "(scan)", "(leaked)", "(durable)"
	if notWaiting[base] {
		return s, ""
	}
	return "waiting", s
}

// TakeCensus dumps every goroutine's stack with runtime.Stack, which
// stops the world for the length of the dump (about 1 µs per goroutine),
// then parses and groups the dump. It is safe to call concurrently.
func TakeCensus(opts CensusOptions) (Census, error) {
	dump := allStacks()
	gs, err := gdump.Parse(bytes.NewReader(dump))
	if err != nil {
		return Census{}, fmt.Errorf("probes: census: %w", err)
	}
	c := Census{Time: time.Now(), Goroutines: len(gs)}
	kept := gs[:0]
	for _, g := range gs {
		state, reason := splitState(g.State)
		if g.Wait < opts.MinWait.Truncate(time.Minute) ||
			opts.State != "" && opts.State != state && opts.State != reason {
			continue
		}
		kept = append(kept, g)
	}
	c.Matched = len(kept)
	groups := gdump.GroupGoroutines(kept)
	if opts.MaxGroups > 0 && len(groups) > opts.MaxGroups {
		c.Omitted = len(groups) - opts.MaxGroups
		groups = groups[:opts.MaxGroups]
	}
	c.Groups = make([]CensusGroup, len(groups))
	for i, g := range groups {
		state, reason := splitState(g.State)
		cg := CensusGroup{State: state, WaitReason: reason, Count: g.Count, MinWait: g.MinWait, MaxWait: g.MaxWait,
			CreatedBy: Frame{g.CreatedBy.Func, g.CreatedBy.File, g.CreatedBy.Line}, IDs: g.IDs,
			Stack: make([]Frame, len(g.Frames))}
		for j, f := range g.Frames {
			cg.Stack[j] = Frame{f.Func, f.File, f.Line}
		}
		c.Groups[i] = cg
	}
	return c, nil
}

// allStacks returns runtime.Stack(buf, true), growing buf until it fits.
func allStacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}
