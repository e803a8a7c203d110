package doctor

import (
	"fmt"
	"slices"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// Thresholds of the overload-control rules.
const (
	shedMostFrac    = 0.5 // of the tasks offered, shed over the window: "most of its work"
	shedMinOffered  = 20  // tasks offered in the window for the share to count
	breakerMinOpens = 2   // openings in the window: "keeps opening"
)

// overload names a pool that sheds most of the work offered to it, with
// the reason its figures give, and a pool whose breaker keeps opening.
// It runs after pools, and takes the place of its pool-overload finding
// for a pool it finds shedding: the rejections are the shedding.
func (a *analysis) overload() {
	polls := a.o.PoolPolls
	if len(polls) < 2 {
		return // pools said why
	}
	first, last := polls[0], polls[len(polls)-1]
	secs := last.Time.Sub(first.Time).Seconds()
	if secs <= 0 {
		return
	}
	a.check("pool overload controls (shedding, breakers)")
	for _, end := range last.Pools {
		start, ok := findPool(first.Pools, end.Name)
		if !ok {
			continue
		}
		if f, ok := shedFinding(a.target, start, end, secs); ok {
			a.findings = slices.DeleteFunc(a.findings, func(g Finding) bool {
				return g.Cause == schedstats.CausePoolOverload && g.Pool == end.Name
			})
			a.add(f)
		}
		if f, ok := breakerFinding(a.target, start, end, secs); ok {
			a.add(f)
		}
	}
}

// shedFinding reports a pool that shed at least shedMostFrac of the tasks
// offered between start and end, and why, as far as its figures tell.
func shedFinding(target string, start, end apiv1.Pool, secs float64) (Finding, bool) {
	shed := float64(sub(end.Refused.ShedWait+end.Refused.ShedKey, start.Refused.ShedWait+start.Refused.ShedKey))
	byKey := float64(sub(end.Refused.ShedKey, start.Refused.ShedKey))
	rejected := float64(sub(end.Rejected, start.Rejected))
	offered := float64(sub(end.Submitted, start.Submitted)) + rejected
	if offered < shedMinOffered || shed < shedMostFrac*offered {
		return Finding{}, false
	}
	frac := shed / offered
	f := Finding{
		Finding: schedstats.Finding{Cause: schedstats.CausePoolShedding, Evidence: []schedstats.Evidence{
			{Name: "shed_fraction", Value: frac, Unit: "fraction"},
			{Name: "shed", Value: shed / secs, Unit: "per second"},
			{Name: "shed_for_key_share", Value: byKey / secs, Unit: "per second"},
			{Name: "shed_target", Value: end.ShedTarget.Seconds(), Unit: "seconds"},
			{Name: "limit", Value: float64(end.Limit), Unit: "workers"},
			{Name: "max_workers", Value: float64(end.MaxWorkers), Unit: "workers"},
			{Name: "running", Value: float64(end.Running), Unit: "tasks"},
		}},
		Pool: end.Name,
		Next: []string{"gdiag pools " + target},
	}
	f.Severity, f.Score = grade(frac, shedMostFrac)
	f.Title = fmt.Sprintf("Pool %s sheds %.0f%% of its work", end.Name, 100*frac)
	f.Summary = fmt.Sprintf("Pool %s refused %.0f%% of the tasks offered (%.0f/s) because its queue stood: they would have waited longer than its %v target",
		end.Name, 100*frac, shed/secs, end.ShedTarget)
	if byKey > 0 {
		f.Summary += fmt.Sprintf(", or their key held more than its share of the pool (%.0f/s)", byKey/secs)
	}
	f.Summary += ". " + shedReason(end, byKey >= shed/2)
	return f, true
}

// shedReason says what a shedding pool's figures point to.
func shedReason(p apiv1.Pool, byKey bool) string {
	switch {
	case byKey:
		return "Most of it was one key taking more than its share: a key limit (pool.WithKeyLimit) or a key rate limit (pool.WithKeyRateLimit) bounds a tenant before it fills the queue."
	case p.Adaptive && 2*p.Limit <= p.MaxWorkers:
		return fmt.Sprintf("Its adaptive limit is %d of %d workers: the run time of its tasks grew with their number, so the work behind the pool (a CPU, a database, a service it calls) is saturated, and more workers would only add latency. Add capacity there or make the tasks cheaper.",
			p.Limit, p.MaxWorkers)
	case p.Running >= p.MaxWorkers:
		return fmt.Sprintf("Every one of its %d workers is busy at its maximum: the pool is too small for its load (Resize it if the work behind it has room), or the load must come down upstream.",
			p.MaxWorkers)
	}
	return "Its workers were not all busy at the last reading: the load comes in bursts longer than the queue absorbs."
}

// breakerFinding reports a pool whose breakers opened at least
// breakerMinOpens times between start and end, naming the breaker most
// worth a look.
func breakerFinding(target string, start, end apiv1.Pool, secs float64) (Finding, bool) {
	opens := sub(end.BreakerOpens, start.BreakerOpens)
	if opens < breakerMinOpens || len(end.Breakers) == 0 {
		return Finding{}, false
	}
	worst := end.Breakers[0]
	for _, b := range end.Breakers[1:] {
		if b.State > worst.State || b.State == worst.State && b.Opened > worst.Opened {
			worst = b
		}
	}
	which := "its breaker"
	if worst.Key != "" {
		which = fmt.Sprintf("the breaker of key %q", worst.Key)
	}
	refused := float64(sub(end.Refused.BreakerOpen, start.Refused.BreakerOpen))
	f := Finding{
		Finding: schedstats.Finding{Cause: schedstats.CausePoolBreaker, Evidence: []schedstats.Evidence{
			{Name: "breaker_opens", Value: float64(opens) / secs, Unit: "per second"},
			{Name: "refused_breaker_open", Value: refused / secs, Unit: "per second"},
			{Name: "breaker_failures", Value: float64(worst.Failures), Unit: "tasks"},
			{Name: "breaker_requests", Value: float64(worst.Requests), Unit: "tasks"},
		}},
		Pool: end.Name,
		Next: []string{"gdiag pools " + target},
	}
	f.Severity, f.Score = grade(float64(opens), breakerMinOpens)
	f.Title = fmt.Sprintf("Pool %s: %s keeps opening (%d times in %.0fs)", end.Name, which, opens, secs)
	f.Summary = fmt.Sprintf("The breakers of pool %s opened %d times in %.0fs and refused %.0f tasks/s meanwhile; %s is %s now. "+
		"A breaker opens when enough of its tasks fail, and opens again when its probes fail: the work behind it keeps failing. "+
		"Look at what its tasks call, and at the errors the pool's observer or logs record.",
		end.Name, opens, secs, refused/secs, which, worst.State)
	return f, true
}
