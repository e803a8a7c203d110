package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// pools names an overloaded or starved pool: rejections at or above
// poolRejectRate per second and poolRejectFrac of the tasks offered, in at
// least half the polls; or a queue-wait p99 at or above poolWaitP99 with
// tasks queued in at least half the polls.
func (a *analysis) pools() {
	polls := a.o.PoolPolls
	if len(polls) < 2 {
		if a.o.Agent {
			a.notChecked("pools: fewer than two readings of /v1/pools")
		} else {
			a.notChecked("pools: need the gdiag agent")
		}
		return
	}
	if !slices.ContainsFunc(polls, func(p PoolPoll) bool { return len(p.Pools) > 0 }) {
		a.check("pools (the process has none)")
		return
	}
	a.check("pools (rejections, queue wait, busiest keys)")
	if !slices.ContainsFunc(polls, func(p PoolPoll) bool {
		return slices.ContainsFunc(p.Pools, func(pl apiv1.Pool) bool { return len(pl.Keys) > 0 })
	}) {
		a.notChecked("one key taking a pool: /v1/pools has no per-key figures (an older agent, or no task carries a key)")
	}
	first, last := polls[0], polls[len(polls)-1]
	secs := last.Time.Sub(first.Time).Seconds()
	if secs <= 0 {
		return
	}
	for _, end := range last.Pools {
		start, ok := findPool(first.Pools, end.Name)
		if !ok {
			continue
		}
		if f, ok := a.poolFinding(start, end, secs); ok {
			a.add(f)
		}
	}
}

func findPool(ps []apiv1.Pool, name string) (apiv1.Pool, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return apiv1.Pool{}, false
}

func (a *analysis) poolFinding(start, end apiv1.Pool, secs float64) (Finding, bool) {
	rejected := float64(sub(end.Rejected, start.Rejected))
	offered := float64(sub(end.Submitted, start.Submitted)) + rejected
	rejTrend, queued, busy, rejPolls, queuedPolls := a.poolTrends(end.Name)
	n := float64(len(queued))
	rejRate, rejFrac := rejected/secs, 0.0
	if offered > 0 {
		rejFrac = rejected / offered
	}
	overloaded := rejRate >= poolRejectRate && rejFrac >= poolRejectFrac && 2*float64(rejPolls) >= n-1
	// The queue wait p99 over the window, by gdiag's quantile rule: p99 is
	// the upper bound of its bucket. A pool counts as starved only when
	// the p99 is certainly past the threshold: its bucket's lower bound is.
	waits := apiv1.Histogram(end.QueueWait).Seconds().Sub(apiv1.Histogram(start.QueueWait).Seconds())
	count := waits.Count()
	p99lo, _ := waits.QuantileBucket(0.99)
	p99 := finite(waits.Quantile(0.99))
	starved := count >= poolMinWaits && p99lo >= poolWaitP99 && 2*float64(queuedPolls) >= n
	hog := a.dominantKey(end.Name)
	if !overloaded && !starved && !hog.found {
		return Finding{}, false
	}
	ev := []schedstats.Evidence{
		{Name: "rejected", Value: rejRate, Unit: "per second", Trend: rejTrend},
		{Name: "rejected_fraction", Value: rejFrac, Unit: "fraction"},
		{Name: "queued", Value: float64(end.Queued + end.Parked), Unit: "tasks", Trend: queued},
		{Name: "queue_capacity", Value: float64(end.QueueCapacity), Unit: "tasks"},
		{Name: "running", Value: float64(end.Running), Unit: "tasks", Trend: busy},
		{Name: "max_workers", Value: float64(end.MaxWorkers), Unit: "workers"},
	}
	if count > 0 {
		ev = append(ev, schedstats.Evidence{Name: "queue_wait_p99", Value: p99, Unit: "seconds", AtMost: true})
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CausePoolOverload, Evidence: ev}, Pool: end.Name,
		Next: []string{"gdiag pools " + a.target, "gdiag goroutines " + a.target + " --pkg github.com/gdiag/gdiag/pool"}}
	rs, rscore := grade(rejFrac, poolRejectFrac)
	ws, wscore := grade(p99lo, poolWaitP99)
	switch {
	case !overloaded && !starved:
		f.Severity, f.Score = grade(float64(hog.polls)/float64(hog.of), 0.5)
		f.Title = fmt.Sprintf("Pool %s taken by key %q", end.Name, hog.key)
	case overloaded && (!starved || rscore >= wscore):
		f.Severity, f.Score = rs, rscore
		f.Title = fmt.Sprintf("Pool %s overloaded: rejecting %.0f tasks/s", end.Name, rejRate)
	default:
		f.Severity, f.Score = ws, wscore
		f.Title = fmt.Sprintf("Pool %s starved: 1%% of tasks wait %s in its queue", end.Name, cli.AtLeast(p99lo))
		if p50lo, _ := waits.QuantileBucket(0.5); p50lo >= poolWaitP99 {
			f.Title = fmt.Sprintf("Pool %s starved: half its tasks wait %s in its queue", end.Name, cli.AtLeast(p50lo))
		}
	}
	f.Summary = fmt.Sprintf("Pool %s rejected %.0f%% of the tasks offered (%.0f/s); %d/%d tasks queued and %d/%d workers running at the end",
		end.Name, 100*rejFrac, rejRate, end.Queued+end.Parked, end.QueueCapacity, end.Running, end.MaxWorkers)
	if count > 0 {
		f.Summary += fmt.Sprintf("; queue wait p99 %s over %d timed waits (the pool times a sample of its tasks)", cli.AtMost(p99), count)
	}
	f.Summary += "."
	if hog.found {
		f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "busiest_key_share", Value: mean(hog.trend), Unit: "fraction", Trend: hog.trend})
		f.Summary += fmt.Sprintf(" Key %q held at least %.0f%% of the workers, with tasks queued, in %d of %d readings", hog.key, 100*hogShare, hog.polls, hog.of)
		if len(end.Keys) > 1 {
			f.Summary += "; pool.WithKeyLimit caps a key."
		} else {
			f.Summary += ", and no other key ran: a key limit would only hold it back."
		}
	}
	keyLimited(&f, end)
	return f, true
}

// keyLimited names a pool held back by its key limit rather than by its
// workers: at the end of the window at least half the queued tasks are set
// aside at the limit (PoolKey.Parked) while workers sit idle. That is the
// limit doing its job for one key; the other keys are not short of
// workers, so it is a warning, and the fix is the limit or the key's load,
// not more workers.
func keyLimited(f *Finding, p apiv1.Pool) {
	held, top := 0, apiv1.PoolKey{}
	for _, k := range p.Keys {
		held += k.Parked
		if k.Parked > top.Parked {
			top = k
		}
	}
	idle := p.MaxWorkers - p.Running
	waiting := p.Queued + held
	if p.KeyLimit <= 0 || held == 0 || 2*held < waiting || idle <= 0 {
		return
	}
	f.Evidence = append(f.Evidence,
		schedstats.Evidence{Name: "held_by_key_limit", Value: float64(held), Unit: "tasks"},
		schedstats.Evidence{Name: "key_limit", Value: float64(p.KeyLimit), Unit: "tasks"},
		schedstats.Evidence{Name: "idle_workers", Value: float64(idle), Unit: "workers"})
	f.Title = fmt.Sprintf("Pool %s held back by its key limit, not its workers: key %q", p.Name, top.Key)
	f.Summary += fmt.Sprintf(" %d of the %d queued tasks wait for the key limit (%d running per key; key %q has %d waiting) while %d of %d workers are idle: more workers would not help; raise pool.WithKeyLimit or spread key %q's load.",
		held, waiting, p.KeyLimit, top.Key, top.Parked, idle, p.MaxWorkers, top.Key)
	if f.Severity == schedstats.Critical {
		f.Severity, f.Score = schedstats.Warning, f.Score-100
	}
}

// hogShare is the share of a pool's workers one key must hold, with tasks
// queued behind it, in at least half the readings to be "taking the pool".
const hogShare = 0.75

type keyHog struct {
	found     bool
	key       string
	polls, of int       // readings where the key took the pool, of those with key figures
	trend     []float64 // the busiest key's share of the workers per reading
}

// dominantKey finds a key that holds at least hogShare of the pool's
// workers while tasks queue, in at least half the readings.
func (a *analysis) dominantKey(name string) keyHog {
	var h keyHog
	count := map[string]int{}
	for _, poll := range a.o.PoolPolls {
		p, ok := findPool(poll.Pools, name)
		if !ok || len(p.Keys) == 0 || p.MaxWorkers <= 0 {
			continue
		}
		h.of++
		top := p.Keys[0]
		for _, k := range p.Keys {
			if k.Running > top.Running {
				top = k
			}
		}
		share := float64(top.Running) / float64(p.MaxWorkers)
		h.trend = append(h.trend, share)
		if share >= hogShare && p.Queued > 0 {
			count[top.Key]++
		}
	}
	for k, n := range count {
		if n > h.polls || n == h.polls && k < h.key {
			h.key, h.polls = k, n
		}
	}
	h.found = h.of > 0 && 2*h.polls >= h.of
	return h
}

// poolTrends follows one pool across the polls: rejections per second
// per interval, queued and running tasks per poll, and how many intervals
// had rejections and how many polls had a queue.
func (a *analysis) poolTrends(name string) (rej, queued, running []float64, rejPolls, queuedPolls int) {
	var prev *apiv1.Pool
	var prevT time.Time
	for _, poll := range a.o.PoolPolls {
		p, ok := findPool(poll.Pools, name)
		if !ok {
			continue
		}
		// Tasks held back by the key limit wait in the queue too.
		queued = append(queued, float64(p.Queued+p.Parked))
		running = append(running, float64(p.Running))
		if p.Queued+p.Parked > 0 {
			queuedPolls++
		}
		if prev != nil {
			d, r := poll.Time.Sub(prevT).Seconds(), float64(sub(p.Rejected, prev.Rejected))
			if d > 0 {
				rej = append(rej, r/d)
			}
			if r > 0 {
				rejPolls++
			}
		}
		prev, prevT = &p, poll.Time
	}
	return rej, queued, running, rejPolls, queuedPolls
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// poolSymptoms ranks a starved pool (tasks waiting in its queue, none
// rejected) below every finding that holds back the work its workers do:
// CPU starvation or saturation, lock contention, GC pressure and
// stop-the-world pauses. A queue that waits is what those look like from
// the pool; the note names the highest of them.
func (a *analysis) poolSymptoms() {
	causes := []string{schedstats.CauseCPUStarved, schedstats.CauseCPUSaturation, schedstats.CauseMutexContention,
		schedstats.CauseGCPressure, schedstats.CauseSTWPauses}
	for i := range a.findings {
		f := &a.findings[i]
		if f.Cause != schedstats.CausePoolOverload || !strings.Contains(f.Title, "starved") {
			continue
		}
		var lowest, highest *Finding
		for j := range a.findings {
			g := &a.findings[j]
			if !slices.Contains(causes, g.Cause) || g.Cause == schedstats.CauseCPUStarved && !starvationExplains(*g) {
				continue
			}
			if lowest == nil || g.Score < lowest.Score {
				lowest = g
			}
			if highest == nil || g.Score > highest.Score {
				highest = g
			}
		}
		if lowest == nil || f.Score < lowest.Score {
			continue
		}
		f.Score = scoreBelow(*lowest)
		if note := " Likely a consequence of the " + highest.Cause + " finding."; !strings.Contains(f.Summary, "Likely a consequence") {
			f.Summary += note
		}
	}
}
