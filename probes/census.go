package probes

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
)

// notWaiting are the goroutine statuses the runtime prints as such; any
// other bracketed state is a wait reason of a waiting goroutine.
var notWaiting = map[string]bool{
	"idle": true, "runnable": true, "running": true, "syscall": true,
	"dead": true, "copystack": true, "preempted": true,
}

// matchesState reports whether a dump's bracketed state ("chan receive",
// "running", "select (leaked)") has the status or wait reason want. A wait
// reason belongs to the status "waiting".
func matchesState(s, want string) bool {
	if s == want {
		return true
	}
	base, _, _ := strings.Cut(s, " (") // "(scan)", "(leaked)", "(durable)"
	if base == want {
		return true
	}
	return want == "waiting" && !notWaiting[base]
}

// census dumps every goroutine's stack with runtime.Stack, which stops the
// world for the length of the dump (about 1 µs per goroutine), then parses
// and groups the dump with gdump and keeps what f asks for (the runtime
// counts waits in whole minutes, so any MinWait up to a minute keeps the
// goroutines waiting one minute or more). It is safe to call concurrently.
func census(f apiv1.CensusFilter) (apiv1.Census, error) {
	dump := allStacks()
	gs, err := gdump.Parse(bytes.NewReader(dump))
	if err != nil {
		return apiv1.Census{}, fmt.Errorf("probes: census: %w", err)
	}
	c := apiv1.Census{Time: time.Now(), Goroutines: len(gs)}
	kept := gs[:0]
	for _, g := range gs {
		if g.Wait < f.MinWait.Truncate(time.Minute) || f.State != "" && !matchesState(g.State, f.State) {
			continue
		}
		kept = append(kept, g)
	}
	c.Matched = len(kept)
	groups := gdump.GroupGoroutines(kept)
	if f.MaxGroups > 0 && len(groups) > f.MaxGroups {
		c.Omitted = len(groups) - f.MaxGroups
		groups = groups[:f.MaxGroups]
	}
	for i := range groups {
		// The first goroutine's arguments and PC offsets say nothing
		// about the others in its group.
		groups[i].Frames = bareFrames(groups[i].Frames)
		groups[i].CreatedBy.Args, groups[i].CreatedBy.Offset = "", 0
	}
	c.Groups = groups
	return c, nil
}

func bareFrames(fs []gdump.Frame) []gdump.Frame {
	out := make([]gdump.Frame, len(fs))
	for i, f := range fs {
		out[i] = gdump.Frame{Func: f.Func, File: f.File, Line: f.Line}
	}
	return out
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
