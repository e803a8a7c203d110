package doctor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
)

// deadlocked adds to o's last census a crowd of handlers waiting on a
// lock (the oldest for maxWait) and the two goroutines of a lock-order
// deadlock, waiting longer.
func deadlocked(o *Observation, state string, crowd int, maxWait time.Duration) {
	lock := []gdump.Frame{{Func: "sync.runtime_SemacquireMutex", File: "sema.go", Line: 1}, {Func: "sync.(*Mutex).lockSlow", File: "mutex.go", Line: 1},
		{Func: "sync.(*Mutex).Lock", File: "mutex.go", Line: 2}}
	at := func(fn string) []gdump.Frame {
		return append(slices.Clone(lock), gdump.Frame{Func: fn, File: "main.go", Line: 9})
	}
	c := &o.Censuses[len(o.Censuses)-1]
	c.Groups = append(c.Groups,
		gdump.Group{State: state, Count: crowd, MaxWait: maxWait, Frames: at("main.transfer")},
		gdump.Group{State: state, Count: 1, MinWait: maxWait + time.Minute, MaxWait: maxWait + time.Minute, Frames: at("main.reconcile")},
		gdump.Group{State: state, Count: 1, MinWait: maxWait + time.Minute, MaxWait: maxWait + time.Minute, Frames: at("main.audit")})
}

// waitedThrough puts the lock waiters of o's last census in its first
// census too: they waited through the window.
func waitedThrough(o *Observation) {
	last := o.Censuses[len(o.Censuses)-1].Groups
	for i := range last {
		if lockWait(last[i]) {
			last[i].IDs = []uint64{uint64(100 + i), uint64(200 + i)}
			o.Censuses[0].Groups = append(o.Censuses[0].Groups, gdump.Group{State: last[i].State, Count: 1, Frames: last[i].Frames, IDs: last[i].IDs[:1]})
		}
	}
}

func TestLockStall(t *testing.T) {
	moving := func(o *Observation) { // a convoy: the runtime credits about what the waiters spend
		for i := range o.History {
			o.History[i].MutexWait = time.Duration(i) * 300 * time.Second
		}
	}
	for _, tc := range []struct {
		name    string
		state   string
		crowd   int
		maxWait time.Duration
		edit    func(*Observation)
		want    schedstats.Severity // with summary "": no lock-stall finding
		summary string
	}{
		{"deadlock", "sync.Mutex.Lock", 350, 2 * time.Minute, nil, schedstats.Critical, "no one got it"},
		{"deadlock before Go 1.20", "semacquire", 350, 2 * time.Minute, nil, schedstats.Critical, "no one got it"},
		{"two goroutines deadlocked", "sync.Mutex.Lock", 0, 0, nil, schedstats.Warning, "no one got it"},
		{"waits under a minute", "sync.Mutex.Lock", 350, 0, nil, 0, ""},
		{"a convoy that moves", "sync.RWMutex.Lock", 300, 2 * time.Minute, moving, 0, ""},
		{"not a lock", "chan receive", 350, 2 * time.Minute, nil, 0, ""},
		{"pprof only", "sync.Mutex.Lock", 350, 2 * time.Minute, func(o *Observation) { o.History = nil }, schedstats.Warning, "a slow convoy"},
		{"deadlock in its first minute", "sync.Mutex.Lock", 350, 0, waitedThrough, schedstats.Critical, "already waiting when the window began"},
		{"pprof only, first minute", "sync.Mutex.Lock", 350, 0, func(o *Observation) { waitedThrough(o); o.History = nil }, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := healthy()
			if tc.crowd == 0 {
				deadlocked(o, tc.state, 1, 0)
			} else {
				deadlocked(o, tc.state, tc.crowd, tc.maxWait)
			}
			if tc.maxWait == 0 && tc.crowd > 0 { // no goroutine has waited a minute
				c := o.Censuses[len(o.Censuses)-1].Groups
				for i := range c {
					c[i].MinWait, c[i].MaxWait = 0, 0
				}
			}
			if tc.edit != nil {
				tc.edit(o)
			}
			fs, _, _ := Analyze(o, "42")
			i := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseLockStall })
			if tc.summary == "" {
				if i >= 0 {
					t.Fatalf("Analyze = %s: %s; want no lock stall", causes(fs), fs[i].Summary)
				}
				return
			}
			if i < 0 {
				t.Fatalf("Analyze = %s; want %s", causes(fs), schedstats.CauseLockStall)
			}
			f := fs[i]
			if f.Severity != tc.want || !strings.Contains(f.Summary, tc.summary) {
				t.Errorf("lock stall %s: %s; want %s, saying %q", f.Severity, f.Summary, tc.want, tc.summary)
			}
			if i != 0 && f.Severity == schedstats.Critical {
				t.Errorf("Analyze = %s; want the critical lock stall first", causes(fs))
			}
			// The deadlocked pair, which waited longest, is shown.
			if !slices.ContainsFunc(f.Stacks, func(s Stack) bool { return strings.Contains(strings.Join(s.Frames, " "), "main.reconcile") }) {
				t.Errorf("stacks %+v; want main.reconcile's", f.Stacks)
			}
		})
	}
}
