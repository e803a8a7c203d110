package doctor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
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
	a := &analysis{o: o, target: target, sched: map[string]schedstats.Finding{}}
	if len(o.History) > 0 {
		for _, f := range schedstats.Detect(o.History, schedThresholds) {
			a.sched[f.Cause] = f
		}
	}
	a.th = withDefaults(schedThresholds)
	for _, rule := range []func(){a.leak, a.cpu, a.mutex, a.gc, a.threads, a.pools, a.stw, a.preempt} {
		rule()
	}
	a.explainPreemption()
	a.explain()
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

// leak names a goroutine leak: the count grows steadily over the window
// (schedstats' leak detector), or, without history, between censuses; the
// census groups that grew are the leaking stacks.
func (a *analysis) leak() {
	o := a.o
	if len(o.History) == 0 && len(o.Censuses) < 2 {
		a.notChecked("goroutine leak: neither history nor two goroutine censuses were gathered")
		return
	}
	a.check("goroutine growth")
	grew := growingGroups(o.Censuses)
	var ev []schedstats.Evidence
	var growth, need float64
	if f, ok := a.sched[schedstats.CauseGoroutineLeak]; ok {
		ev, growth = schedEvidence(f), evidenceValue(f, "growth")
		first := float64(o.History[0].Goroutines.Total)
		need = math.Max(float64(a.th.LeakMinGrowth), a.th.LeakMinRatio*first)
	} else if len(o.History) < a.th.LeakMinSamples && len(o.Censuses) >= 2 {
		first, last := o.Censuses[0], o.Censuses[len(o.Censuses)-1]
		growth = float64(last.Total - first.Total)
		need = math.Max(float64(a.th.LeakMinGrowth), a.th.LeakMinRatio*float64(first.Total))
		if growth < need || !monotone(o.Censuses) {
			return
		}
		trend := make([]float64, len(o.Censuses))
		for i, c := range o.Censuses {
			trend[i] = float64(c.Total)
		}
		ev = []schedstats.Evidence{{Name: "goroutines", Value: float64(last.Total), Unit: "goroutines", Trend: trend},
			{Name: "growth", Value: growth, Unit: "goroutines"}}
	} else {
		return
	}
	sev, score := grade(growth, need)
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseGoroutineLeak, Severity: sev, Evidence: ev}, Score: score, Title: "Goroutine leak"}
	f.Summary = fmt.Sprintf("Goroutines grew by %.0f over the window without levelling off.", growth)
	f.Next = []string{"gdiag goroutines --diff " + a.target + " --after 10s"}
	if len(grew) > 0 {
		top := grew[0]
		name := culprit(funcsOf(top.Frames))
		f.Title = "Goroutine leak in " + name
		f.Summary += fmt.Sprintf(" The largest growing group (%d, +%d) is blocked in %q at %s.", top.Count, top.Growth, top.State, name)
		f.Stacks = leakStacks(grew)
		f.Next = append([]string{fmt.Sprintf("gdiag goroutines %s --state %s", a.target, shellQuote(top.State))}, f.Next...)
	}
	a.add(f)
}

// growingGroups compares the first and the last census and returns the
// groups that grew, most growth first.
func growingGroups(cs []Census) []Stack {
	if len(cs) < 2 {
		return nil
	}
	before := map[string]int{}
	for _, g := range cs[0].Groups {
		before[groupKey(g)] += g.Count
	}
	var out []Stack
	for _, g := range cs[len(cs)-1].Groups {
		if d := g.Count - before[groupKey(g)]; d > 0 {
			out = append(out, Stack{Count: g.Count, Growth: d, State: g.State, Frames: frameStrings(g.Frames)})
		}
	}
	slices.SortStableFunc(out, func(x, y Stack) int { return cmp.Compare(y.Growth, x.Growth) })
	return out
}

// leakStacks keeps the groups that account for the growth: at most three,
// each with at least a tenth of the largest group's growth (a request in
// flight at the end is not a leak).
func leakStacks(grew []Stack) []Stack {
	var out []Stack
	for _, s := range grew {
		if len(out) == 3 || 10*s.Growth < grew[0].Growth {
			break
		}
		out = append(out, s)
	}
	return out
}

// monotone reports whether the censuses' totals never fall.
func monotone(cs []Census) bool {
	for i := 1; i < len(cs); i++ {
		if cs[i].Total < cs[i-1].Total {
			return false
		}
	}
	return true
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

// cpu names CPU saturation: a run-queue backlog per P sustained for
// several samples, or a scheduling-latency p99 above its threshold in at
// least half the intervals (not one burst), with the hottest functions.
func (a *analysis) cpu() {
	o := a.o
	if len(o.History) < 2 {
		a.notChecked("CPU saturation: run queues and scheduling latency need the gdiag agent's history (pprof has no scheduler figures)")
		if o.CPU != nil {
			a.check("CPU profile")
		}
		return
	}
	a.check("run-queue backlog and scheduling latency")
	rq, rqOK := a.sched[schedstats.CauseRunqueueBacklog]
	lat, latOK := a.sched[schedstats.CauseSchedLatency]
	limit := a.th.SchedLatencyP99.Seconds()
	if latOK && !sustained(lat.Evidence, "sched_latency_p99", limit) {
		latOK = false
	}
	// Latency without a backlog, in a process using under half its Ps,
	// means other processes have the machine: not this one's saturation.
	if c := o.CPU; latOK && !rqOK && c != nil && c.Duration > 0 && o.GOMAXPROCS > 0 &&
		c.Seconds/c.Duration.Seconds() < cpuMinBusy*float64(o.GOMAXPROCS) {
		a.notChecked(fmt.Sprintf("CPU saturation: scheduling latency p99 was high but the process used %.2f of %d Ps: the machine is busy with other work",
			c.Seconds/c.Duration.Seconds(), o.GOMAXPROCS))
		latOK = false
	}
	if !rqOK && !latOK {
		return
	}
	var measure, threshold float64
	var ev []schedstats.Evidence
	var parts []string
	if rqOK {
		m := evidenceValue(rq, "backlog_per_p_mean")
		measure, threshold = m, a.th.RunqueuePerP
		ev = append(ev, schedEvidence(rq)...)
		parts = append(parts, fmt.Sprintf("%.1f runnable goroutines were waiting per P", m))
	}
	if latOK {
		p99 := evidenceValue(lat, "sched_latency_p99")
		if p99/limit > measure/math.Max(threshold, 1e-9) || !rqOK {
			measure, threshold = p99, limit
		}
		ev = append(ev, schedEvidence(lat)...)
		parts = append(parts, "scheduling latency p99 was "+cli.AtMost(p99))
	}
	sev, score := grade(measure, threshold)
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseCPUSaturation, Severity: sev, Evidence: ev,
		Summary: upper(strings.Join(parts, " and ")) + fmt.Sprintf(" (GOMAXPROCS %d).", o.GOMAXPROCS)},
		Score: score, Title: "CPU saturation",
		Next: []string{"gdiag profile cpu " + a.target + " --duration 10s", "gdiag sched " + a.target}}
	if c := o.CPU; c != nil && c.Seconds > 0 {
		f.Functions = c.Top
		if secs := c.Duration.Seconds(); secs > 0 {
			f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "cpu_used", Value: c.Seconds / secs, Unit: "cores"})
		}
		if len(c.App) > 0 {
			f.Title = "CPU saturation in " + c.App[0].Name
			f.Summary += fmt.Sprintf(" %s and its callees took %.0f%% of the CPU samples.", c.App[0].Name, c.App[0].Percent)
		}
	}
	a.add(f)
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
