package doctor

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/procfs"
	"github.com/gdiag/gdiag/schedstats"
)

// Thresholds of the CPU rules; doc.go has the reasoning.
const (
	starvedDelay     = 0.1  // run delay, seconds per second: a tenth of a thread always waiting
	starvedShare     = 0.25 // of the CPU time wanted (used + waited) spent waiting
	starvedCritShare = 0.8  // waited this share or more (got under a fifth of what it wanted): critical
	throttledFrac    = 0.1  // of the cgroup's enforcement periods throttled
	starvedHostBusy  = 0.75 // share of the host's CPU time busy for waiting to count
	throttledMin     = 5    // throttled periods in the window, so one burst is not a finding
	saturatedShare   = 0.75 // of its usable CPUs the process must use for saturation to be its own
	burstIntervals   = 2    // one-second intervals at saturatedShare that make a process below it on average saturated in bursts
)

// osView is the kernel's account of the window: the rates between the
// first and last readings, and the per-interval trends.
type osView struct {
	ok          bool
	r           procfs.Rates
	first, last OSReading
	cpu, delay  []float64 // per interval: cores used, run delay s/s
}

func (a *analysis) osView() osView {
	rs := a.o.OS
	if len(rs) < 2 {
		return osView{}
	}
	v := osView{ok: true, first: rs[0], last: rs[len(rs)-1]}
	v.r = procfs.Diff(v.first.Sample, v.last.Sample)
	if v.r.Seconds <= 0 {
		return osView{}
	}
	for i := 1; i < len(rs); i++ {
		d := procfs.Diff(rs[i-1].Sample, rs[i].Sample)
		v.cpu, v.delay = append(v.cpu, d.CPU), append(v.delay, d.RunDelay)
	}
	return v
}

// osWhy says why the kernel's figures are missing.
func (a *analysis) osWhy() string {
	switch {
	case a.o.OSMissing != "":
		return a.o.OSMissing
	case len(a.o.OS) == 1:
		return "only one reading of /proc was taken"
	}
	return "/proc could not be read"
}

// usable is how many CPUs the process can use: the least of GOMAXPROCS,
// its cgroup quota, its affinity and the host's CPUs (whichever are known).
func (a *analysis) usable(v osView) float64 {
	u := 0.0
	if v.ok {
		u = v.r.UsableCPUs()
	}
	if g := float64(a.o.GOMAXPROCS); g > 0 && (u == 0 || g < u) {
		u = g
	}
	return u
}

// starved names CPU starvation: the process wanted CPU the kernel did not
// give it. Either its cgroup's quota throttled it (in at least a tenth of
// the enforcement periods), or its threads waited runnable for a CPU at
// least a tenth of a second per second and at least a quarter of the CPU
// time they wanted (used + waited): other processes held the CPUs.
func (a *analysis) starved() {
	v := a.osView()
	if !v.ok {
		a.notChecked("CPU starvation (cgroup throttling, run delay): " + a.osWhy())
		return
	}
	a.check("CPU starvation (the kernel's cgroup throttling, run delay and host load)")
	r := v.r
	throttled := r.Throttled >= throttledMin && r.ThrottledFraction() >= throttledFrac
	waitShare := 0.0
	if r.CPU+r.RunDelay > 0 {
		waitShare = r.RunDelay / (r.CPU + r.RunDelay)
	}
	// Threads wait for a CPU on an idle host only briefly (wake-up
	// latency); unless the process is confined to some of the CPUs, the
	// host must be busy for waiting to be starvation.
	hostBusy := r.HostCPUs == 0 || r.CPUsAllowed > 0 && r.CPUsAllowed < r.HostCPUs || r.HostBusy >= starvedHostBusy
	contended := r.RunDelay >= starvedDelay && waitShare >= starvedShare && hostBusy
	if !throttled && !contended {
		return
	}
	ev := []schedstats.Evidence{
		{Name: "cpu_used", Value: r.CPU, Unit: "cores", Trend: v.cpu},
		{Name: "usable_cpus", Value: a.usable(v), Unit: "cpus"},
		{Name: "run_delay", Value: r.RunDelay, Unit: "seconds/second", Trend: v.delay},
		{Name: "wait_share", Value: waitShare, Unit: "fraction"},
	}
	if a.o.GOMAXPROCS > 0 {
		ev = append(ev, schedstats.Evidence{Name: "gomaxprocs", Value: float64(a.o.GOMAXPROCS), Unit: "Ps"})
	}
	if r.Quota > 0 {
		ev = append(ev, schedstats.Evidence{Name: "cgroup_quota", Value: r.Quota, Unit: "cpus"})
	}
	if r.Periods > 0 {
		ev = append(ev, schedstats.Evidence{Name: "throttled_periods", Value: r.ThrottledFraction(), Unit: "fraction"},
			schedstats.Evidence{Name: "throttled_time", Value: r.ThrottledTime, Unit: "seconds/second"})
	}
	ev = append(ev, schedstats.Evidence{Name: "host_busy", Value: r.HostBusy, Unit: "fraction"},
		schedstats.Evidence{Name: "host_cpus", Value: float64(r.HostCPUs), Unit: "cpus"},
		schedstats.Evidence{Name: "load1", Value: r.Load1, Unit: ""})
	if r.HostSteal > 0 {
		ev = append(ev, schedstats.Evidence{Name: "host_steal", Value: r.HostSteal, Unit: "fraction"})
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseCPUStarved, Evidence: ev}}
	if throttled {
		f.Severity, f.Score = grade(r.ThrottledFraction(), throttledFrac)
		f.Title = fmt.Sprintf("CPU starved: throttled by its cgroup's quota of %s CPU", trimFloat(r.Quota))
		f.Summary = fmt.Sprintf("The process used %.2f cores under a cgroup quota of %s CPU and was throttled in %.0f%% of the quota's periods (%d of %d; %.2f s held back per second): it wanted more CPU than the quota allows.",
			r.CPU, trimFloat(r.Quota), 100*r.ThrottledFraction(), r.Throttled, r.Periods, r.ThrottledTime)
		f.Next = []string{"cat " + shellQuote(filepath.Join(v.last.Cgroup.Path, "cpu.stat"))}
	} else {
		ratio := math.Min(r.RunDelay/starvedDelay, 99)
		f.Severity, f.Score = schedstats.Warning, ratio
		// Critical only for a process that wanted a real share of the
		// CPU: idle threads of a quiet one spin and wait too.
		wantsLittle := r.CPU+r.RunDelay < math.Min(starvedWants, starvedWants*a.usable(v))
		if waitShare >= starvedCritShare && r.RunDelay >= criticalFactor*starvedDelay && !wantsLittle {
			f.Severity, f.Score = schedstats.Critical, 100+ratio
		}
		others := math.Max(r.HostBusy*float64(r.HostCPUs)-r.CPU, 0)
		ev = append(ev, schedstats.Evidence{Name: "others_cpu", Value: others, Unit: "cores"})
		f.Evidence = ev
		who := fmt.Sprintf("other processes used %.2f cores of it", others)
		if others < 0.25*float64(r.HostCPUs) {
			who = "yet other processes used little of it: the process's own threads outnumber the CPUs it may use"
		}
		if r.HostSteal >= 0.1 {
			who = fmt.Sprintf("the hypervisor gave %.0f%% of the host's CPU time to other guests (steal)", 100*r.HostSteal)
		}
		f.Title = "CPU starved: waiting behind other processes for a CPU"
		f.Summary = fmt.Sprintf("The process's threads waited %.2f s per second runnable for a CPU while it used %.2f cores: it got %.0f%% of the CPU time it wanted. The host was %.0f%% busy (load %s on %d CPUs); %s.",
			r.RunDelay, r.CPU, 100*(1-waitShare), 100*r.HostBusy, trimFloat(r.Load1), r.HostCPUs, who)
		if r.Quota > 0 {
			f.Summary += fmt.Sprintf(" Its cgroup's quota of %s CPU throttled it in %.0f%% of the periods: the host's other work, not the quota, held it back.",
				trimFloat(r.Quota), 100*r.ThrottledFraction())
		}
		f.Next = []string{"ps -eo pid,ni,pcpu,comm --sort=-pcpu"}
	}
	if a.o.Agent {
		f.Next = append(f.Next, "gdiag sched "+a.target+" --once")
	}
	// What the CPU it did get went to: a CPU-bound program that is also
	// starved shows its hot code here.
	if c := a.o.CPU; c != nil && c.Seconds > 0 {
		f.Functions = c.App
	}
	a.add(f)
}

// cpu names CPU saturation: the process itself uses about all the CPUs it
// can (at least saturatedShare of min(GOMAXPROCS, quota, affinity, host
// CPUs), by the kernel's count, else by the CPU profile) and its
// goroutines queue for them: a run-queue backlog per P sustained for
// several samples, or a scheduling-latency p99 above its threshold in at
// least half the intervals. Without the scheduler's figures (pprof
// targets) the CPU profile's cores against GOMAXPROCS decide, a warning at
// most. Goroutines queueing while the process uses little CPU are not its
// own saturation: the kernel gives it less than it asks for (cpu-starved).
func (a *analysis) cpu() {
	o := a.o
	v := a.osView()
	usable := a.usable(v)
	used, usedFrom := -1.0, ""
	switch c := o.CPU; {
	case v.ok:
		used, usedFrom = v.r.CPU, "the kernel's count"
	case c != nil && c.Duration > 0:
		used, usedFrom = c.Seconds/c.Duration.Seconds(), "the CPU profile"
	}
	if len(o.History) < 2 {
		a.cpuFromProfile(used, usedFrom, usable)
		return
	}
	a.check("run-queue backlog and scheduling latency")
	rq, rqOK := a.sched[schedstats.CauseRunqueueBacklog]
	lat, latOK := a.sched[schedstats.CauseSchedLatency]
	limit := a.th.SchedLatencyP99.Seconds()
	if latOK && !sustained(lat.Evidence, "sched_latency_p99", limit) {
		latOK = false
	}
	if !rqOK && !latOK {
		return
	}
	burst := ""
	var burstEv []schedstats.Evidence
	if used >= 0 && usable > 0 && used < saturatedShare*usable {
		n, peak := busyIntervals(v.cpu, saturatedShare*usable)
		if n < burstIntervals {
			a.notChecked(a.notSaturated(used, usable, usedFrom, v.ok))
			return
		}
		burst = fmt.Sprintf(" It saturated them in bursts: in %d of %d one-second intervals it used at least %.0f%% of them, up to %.2f cores.",
			n, len(v.cpu), 100*saturatedShare, peak)
		burstEv = []schedstats.Evidence{{Name: "saturated_intervals", Value: float64(n), Unit: "seconds"}, {Name: "cpu_used_peak", Value: peak, Unit: "cores"}}
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
		Score: score, Title: "CPU saturation", Next: a.cpuNext()}
	if used >= 0 {
		f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "cpu_used", Value: used, Unit: "cores"},
			schedstats.Evidence{Name: "usable_cpus", Value: usable, Unit: "cpus"})
		f.Summary += fmt.Sprintf(" The process used %.2f of its %s usable CPUs (%s).", used, trimFloat(usable), usedFrom) + burst
		f.Evidence = append(f.Evidence, burstEv...)
	}
	if burst != "" {
		f.Title = "Bursts of CPU saturation"
	}
	a.hotFunctions(&f)
	a.add(f)
}

// busyIntervals counts the intervals in which the process used at least
// limit cores, and returns the most it used in one.
func busyIntervals(cpu []float64, limit float64) (n int, peak float64) {
	for _, c := range cpu {
		if c >= limit {
			n++
		}
		peak = max(peak, c)
	}
	return n, peak
}

// notSaturated says why goroutines queued for Ps without the process
// saturating its CPUs, pointing at starvation only when it was found.
func (a *analysis) notSaturated(used, usable float64, usedFrom string, perSecond bool) string {
	s := fmt.Sprintf("CPU saturation: goroutines queued for Ps, but the process used %.2f of its %s usable CPUs (%s): not its own saturation", used, trimFloat(usable), usedFrom)
	switch {
	case a.finding(schedstats.CauseCPUStarved) != nil:
		return s + "; see cpu-starved"
	case perSecond:
		return s + ", in no more than one second of the window either"
	}
	return s
}

// cpuFromProfile judges saturation from the CPU profile alone: cores used
// against the usable CPUs. Without the scheduler's run queues it cannot
// tell how long goroutines waited, so it is a warning at most.
func (a *analysis) cpuFromProfile(used float64, usedFrom string, usable float64) {
	a.notChecked("run queues and scheduling latency: need the gdiag agent's history (pprof has no scheduler figures)")
	switch {
	case used < 0:
		a.notChecked("CPU saturation: no CPU profile and no kernel figures")
		return
	case usable <= 0:
		a.notChecked(fmt.Sprintf("CPU saturation: the process used %.2f cores (%s), but its GOMAXPROCS is unknown (no execution trace, not a local process)", used, usedFrom))
		return
	}
	a.check("CPU use against GOMAXPROCS (" + usedFrom + ")")
	if used < saturatedShare*usable {
		return
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseCPUSaturation, Severity: schedstats.Warning,
		Evidence: []schedstats.Evidence{{Name: "cpu_used", Value: used, Unit: "cores"}, {Name: "usable_cpus", Value: usable, Unit: "cpus"}},
		Summary:  fmt.Sprintf("The process used %.2f of its %s usable CPUs (%s); how long its goroutines waited for a P needs the agent's scheduler figures.", used, trimFloat(usable), usedFrom)},
		Score: math.Min(used/usable/saturatedShare, 99), Title: "CPU saturation", Next: a.cpuNext()}
	a.hotFunctions(&f)
	a.add(f)
}

func (a *analysis) cpuNext() []string {
	n := []string{"gdiag profile cpu " + a.target + " --duration 10s"}
	if a.o.Agent {
		n = append(n, "gdiag sched "+a.target+" --once")
	}
	return n
}

// hotFunctions adds the CPU profile's hottest functions to f.
func (a *analysis) hotFunctions(f *Finding) {
	c := a.o.CPU
	if c == nil || c.Seconds <= 0 {
		return
	}
	f.Functions = c.Top
	if len(c.App) > 0 {
		f.Title += " in " + c.App[0].Name
		f.Summary += fmt.Sprintf(" %s and its callees took %.0f%% of the CPU samples.", c.App[0].Name, c.App[0].Percent)
	}
}

// starvedWants is the share of the CPUs the process may use that it must
// have wanted (CPU used plus run delay) for starvation to explain other
// symptoms; never more than half a core. A process that wanted a few
// hundredths of a core (tasks that sleep, a pause spent in its own work)
// is slow for its own reasons, whatever the host's load.
const starvedWants = 0.5

// starvationExplains reports whether the cpu-starved finding f concerns a
// process that wanted enough CPU for its starvation to explain the rest.
func starvationExplains(f Finding) bool {
	wanted := evidenceValue(f.Finding, "cpu_used") + evidenceValue(f.Finding, "run_delay")
	need := starvedWants
	if u := evidenceValue(f.Finding, "usable_cpus"); u > 0 {
		need = math.Min(need, starvedWants*u)
	}
	return wanted >= need
}

// explainStarved ranks below cpu-starved what starvation explains: long
// pauses (the world cannot stop while threads wait for a CPU), scheduling
// latency read as saturation under a quota, and a pool whose queue waits.
func (a *analysis) explainStarved() {
	cause := a.finding(schedstats.CauseCPUStarved)
	if cause == nil || !starvationExplains(*cause) {
		return
	}
	throttled := strings.Contains(cause.Title, "throttled")
	// Pauses the program asks for (stack dumps, ReadMemStats) are its own,
	// however slow the host makes them.
	asked := stwReasonNote(a.o.Preemption, a.th.PauseMax.Seconds()) != ""
	for i := range a.findings {
		f := &a.findings[i]
		switch {
		case f.Cause == schedstats.CauseSTWPauses && !asked,
			f.Cause == schedstats.CausePoolOverload && strings.Contains(f.Title, "starved"),
			f.Cause == schedstats.CauseCPUSaturation && throttled:
			demote(f, *cause)
		}
	}
}
