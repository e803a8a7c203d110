package doctor

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
)

// Thresholds of the lock-stall rule; doc.go has the reasoning.
const (
	stallMinWaiters = 10   // stuck lock waiters that make the finding critical
	stallProgress   = 0.25 // lock wait credited over the window, as a share of what the waiters spent, below which no one got the lock
)

// lockStall names a lock no waiter got: goroutines in a sync.Mutex or
// sync.RWMutex wait, the oldest for at least staticMinWait or, with the
// runtime's lock wait, through the whole window (in both censuses). The
// runtime credits lock wait (/sync/mutex/wait/total) when a waiter wakes,
// so when the waiters spent far more time waiting than the runtime
// credited over the window, no one got the lock: a deadlock, or a holder
// that never returns. A convoy that moves credits about as much as its
// waiters spend, and is mutex-contention's.
func (a *analysis) lockStall() {
	cs := a.o.Censuses
	if len(cs) == 0 {
		return
	}
	a.check("stalled locks (lock waits of minutes, or through the window)")
	// Goroutines already waiting on a lock at the start of the window.
	first := map[uint64]bool{}
	for _, g := range cs[0].Groups {
		if len(cs) > 1 && lockWait(g) {
			for _, id := range g.IDs {
				first[id] = true
			}
		}
	}
	var stalled []gdump.Group
	waiters, aged := 0, false
	for _, g := range cs[len(cs)-1].Groups {
		if !lockWait(g) {
			continue
		}
		old := g.MaxWait >= staticMinWait
		if old || slices.ContainsFunc(g.IDs, func(id uint64) bool { return first[id] }) {
			stalled = append(stalled, g)
			waiters += g.Count
			aged = aged || old
		}
	}
	if len(stalled) == 0 {
		return
	}
	credited, spent, known := a.lockProgress(waiters)
	switch {
	case known && credited >= stallProgress*spent:
		return // the lock moves: a convoy, which the contention rule weighs
	case !known && !aged:
		return // a wait through one window, without the runtime's figure, may be a slow convoy
	}
	slices.SortStableFunc(stalled, func(x, y gdump.Group) int { return cmp.Compare(y.Count, x.Count) })
	top, oldest := stalled[0], slices.MaxFunc(stalled, func(x, y gdump.Group) int { return cmp.Compare(x.MaxWait, y.MaxWait) })
	name := culprit(funcsOf(frameStrings(top.Frames)))
	ev := []schedstats.Evidence{
		{Name: "lock_waiters", Value: float64(waiters), Unit: "goroutines"},
		{Name: "longest_lock_wait", Value: oldest.MaxWait.Seconds(), Unit: "seconds"},
	}
	if !aged { // known to have waited through the window, not a minute yet
		ev[1].Value = a.elapsed()
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseLockStall, Severity: schedstats.Warning, Evidence: ev},
		Score: float64(waiters) / stallMinWaiters, Stacks: lockStacks(stalled, top),
		Title: fmt.Sprintf("Lock stalled: %d goroutines wait in %s", top.Count, name),
		Next:  []string{fmt.Sprintf("gdiag goroutines %s --state %s --min-wait 1m", a.target, shellQuote(lockStateFilter(top)))}}
	f.Summary = fmt.Sprintf("%d goroutines wait for a lock (%s), %d of them at %s; ", waiters, top.WaitReason(), top.Count, name)
	if aged {
		f.Summary += fmt.Sprintf("the oldest has waited at least %s (the dump's wait time).", minutes(oldest.MaxWait))
	} else {
		f.Summary += "some were already waiting when the window began (they are in both goroutine censuses)."
	}
	if known {
		f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "lock_wait_credited", Value: credited, Unit: "seconds"},
			schedstats.Evidence{Name: "credited_share_of_wait", Value: credited / spent, Unit: "fraction"})
		f.Summary += fmt.Sprintf(" Over the window they waited about %.0f s and the runtime credited %.1f s of lock wait, which it does when a waiter gets the lock: no one got it. A deadlock, or a holder that never returns; in a deadlock the goroutines that waited longest hold the locks the others want.", spent, credited)
		if waiters >= stallMinWaiters {
			f.Severity, f.Score = schedstats.Critical, 100+min(float64(waiters)/stallMinWaiters, 99)
		}
	} else {
		f.Summary += " Whether any waiter got the lock during the window needs the runtime's lock wait (the agent's snapshots): a deadlock and a slow convoy both look like this."
	}
	f.Score = max(f.Score, 1)
	a.add(f)
}

// lockProgress returns the lock wait the runtime credited over the
// window and the time waiters of a lock spent in it (waiters × window),
// in seconds, when the history has the runtime's mutex wait.
func (a *analysis) lockProgress(waiters int) (credited, spent float64, known bool) {
	h, secs := a.o.History, a.elapsed()
	if len(h) < 2 || secs <= 0 || h[0].Sources.Mutex == schedstats.SourceNone {
		return 0, 0, false
	}
	credited = finite((h[len(h)-1].MutexWait - h[0].MutexWait).Seconds())
	return max(credited, 0), float64(waiters) * secs, true
}

// lockWait reports whether a group waits to take a sync.Mutex or
// sync.RWMutex: the wait reason names it (Go 1.20+), or, in older
// runtimes' "semacquire", the stack does.
func lockWait(g gdump.Group) bool {
	r, _, _ := strings.Cut(g.WaitReason(), " (")
	switch r {
	case "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock":
		return true
	case "semacquire":
		return slices.ContainsFunc(g.Frames, func(f gdump.Frame) bool {
			switch f.Func {
			case "sync.(*Mutex).Lock", "sync.(*Mutex).lockSlow", "sync.(*RWMutex).Lock", "sync.(*RWMutex).RLock":
				return true
			}
			return false
		})
	}
	return false
}

// lockStateFilter is the --state of gdiag goroutines that keeps g's kind
// of lock wait.
func lockStateFilter(g gdump.Group) string {
	if r, _, _ := strings.Cut(g.WaitReason(), " ("); r == "semacquire" {
		return r
	}
	return "Mutex"
}

// lockStacks shows the largest group, then the ones that waited longest:
// in a deadlock those hold the locks the crowd wants.
func lockStacks(stalled []gdump.Group, top gdump.Group) []Stack {
	rest := slices.Clone(stalled[1:])
	slices.SortStableFunc(rest, func(x, y gdump.Group) int { return cmp.Compare(y.MaxWait, x.MaxWait) })
	out := []Stack{{Count: top.Count, State: top.State, Frames: frameStrings(top.Frames)}}
	for _, g := range rest[:min(len(rest), 3)] {
		out = append(out, Stack{Count: g.Count, State: g.State, Frames: frameStrings(g.Frames)})
	}
	return out
}
