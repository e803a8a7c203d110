package doctor

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// schedThresholds are schedstats' defaults, changed only where a window
// of seconds differs from the sampler's five minutes: a leak is looked for
// from 5 samples on, and needs 100 more goroutines or 10% more, whichever
// is larger (the sampler's 50% suits five minutes, not twenty seconds).
var schedThresholds = schedstats.Thresholds{LeakMinSamples: 5, LeakMinRatio: 0.1}

// cpuMinBusy is the share of its Ps a process must keep busy for high
// scheduling latency alone (no run-queue backlog) to be its own saturation.
const cpuMinBusy = 0.5

// analysis carries the state of one Analyze call.
type analysis struct {
	o        *Observation
	target   string
	sched    map[string]schedstats.Finding
	th       schedstats.Thresholds
	findings []Finding
	checked  []string
	missing  []string
}

// Analyze runs every rule over o and returns the findings, ranked, with
// what was checked and what could not be. target is what the user typed,
// used in the commands suggested next. Analyze never panics on any o.
func Analyze(o *Observation, target string) (findings []Finding, checked, notChecked []string) {
	o = finiteObservation(o)
	a := &analysis{o: o, target: target, sched: map[string]schedstats.Finding{}}
	if len(o.History) > 0 {
		for _, f := range schedstats.Detect(o.History, schedThresholds) {
			a.sched[f.Cause] = f
		}
	}
	a.th = withDefaults(schedThresholds)
	if o.GOMAXPROCSFrom != "" {
		a.check(fmt.Sprintf("GOMAXPROCS %d, from %s", o.GOMAXPROCS, o.GOMAXPROCSFrom))
	}
	for _, rule := range []func(){a.leak, a.lockStall, a.starved, a.cpu, a.mutex, a.gc, a.threads, a.pools, a.overload, a.stw, a.preempt} {
		rule()
	}
	a.explainPreemption()
	a.explain()
	a.explainStarved()
	a.delayOverStarved()
	a.poolSymptoms()
	a.keepWorkingNext()
	rank(a.findings)
	if a.findings == nil {
		a.findings = []Finding{}
	}
	return a.findings, a.checked, a.missing
}

// withDefaults spells out the schedstats defaults doctor relies on (the
// Thresholds type fills them in privately).
func withDefaults(th schedstats.Thresholds) schedstats.Thresholds {
	th.RunqueuePerP, th.SchedLatencyP99, th.PauseMax = 2, 10*time.Millisecond, 50*time.Millisecond
	th.LeakMinGrowth, th.ThreadGrowth, th.ThreadSlack = 100, 50, 16
	return th
}

func (a *analysis) add(f Finding) {
	if f.Evidence == nil {
		f.Evidence = []schedstats.Evidence{}
	}
	if f.Next == nil {
		f.Next = []string{}
	}
	a.findings = append(a.findings, f)
}

func (a *analysis) check(what string)      { a.checked = append(a.checked, what) }
func (a *analysis) notChecked(what string) { a.missing = append(a.missing, what) }

func (a *analysis) elapsed() float64 {
	if s := a.o.Elapsed.Seconds(); s > 0 && !math.IsInf(s, 0) {
		return s
	}
	if h := a.o.History; len(h) > 1 {
		if s := h[len(h)-1].Time.Sub(h[0].Time).Seconds(); s > 0 {
			return s
		}
	}
	return 0
}

// schedEvidence returns a detector's evidence with NaN and infinities,
// which JSON cannot carry, replaced by 0.
func schedEvidence(f schedstats.Finding) []schedstats.Evidence {
	out := slices.Clone(f.Evidence)
	for i := range out {
		out[i].Value, out[i].Trend = finite(out[i].Value), finiteAll(slices.Clone(out[i].Trend))
	}
	return out
}

// finite replaces NaN and infinities, which JSON cannot carry, by 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func finiteAll(vs []float64) []float64 {
	for i, v := range vs {
		vs[i] = finite(v)
	}
	return vs
}

func evidenceValue(f schedstats.Finding, name string) float64 {
	for _, e := range f.Evidence {
		if e.Name == name {
			return finite(e.Value)
		}
	}
	return 0
}

func funcsOf(frames []string) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = funcOf(f)
	}
	return out
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sustained reports whether at least half the values of the named
// evidence trend exceed limit.
func sustained(ev []schedstats.Evidence, name string, limit float64) bool {
	for _, e := range ev {
		if e.Name != name || len(e.Trend) == 0 {
			continue
		}
		n := 0
		for _, v := range e.Trend {
			if v > limit {
				n++
			}
		}
		return 2*n >= len(e.Trend)
	}
	return false
}

func secDur(s float64) time.Duration {
	if math.IsNaN(s) || s > 1e9 || s < -1e9 {
		return 0
	}
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// agentOnly are the commands that need the gdiag agent (gdiag sched and
// gdiag pools refuse a pprof URL with exit code 3).
var agentOnly = []string{"gdiag sched ", "gdiag pools ", "gdiag profile wall "}

// keepWorkingNext drops the next commands that cannot work on the target:
// agent-only commands for a pprof target, and gdiag trace when the target
// would not give doctor a trace (etcd's /debug/pprof/trace answers 404).
func (a *analysis) keepWorkingNext() {
	for i := range a.findings {
		f := &a.findings[i]
		kept := f.Next[:0]
		for _, c := range f.Next {
			drop := !a.o.Agent && slices.ContainsFunc(agentOnly, func(p string) bool { return strings.HasPrefix(c, p) })
			drop = drop || a.o.NoTrace && strings.HasPrefix(c, "gdiag trace ")
			if !drop {
				kept = append(kept, c)
			}
		}
		f.Next = kept
	}
}
