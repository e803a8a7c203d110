package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// record is what happened to one request.
type record struct {
	at      time.Duration // arrival
	latency time.Duration // arrival to end, for admitted requests
	out     outcome
}

// phaseResult is one contender's figures for one phase.
type phaseResult struct {
	Goodput float64       // requests finished within their deadline, per second
	P50     time.Duration // of admitted requests, arrival to end
	P99     time.Duration
	Refused float64 // share of arrivals refused
	Failed  float64 // share of arrivals admitted but failed or late
}

// result is one contender's run.
type result struct {
	Name    string
	About   string
	Phases  []phaseResult
	Recover []time.Duration // after each phase that follows a disturbance; -1: not within that phase
}

// summarize computes the figures of each phase from the records, by
// arrival time.
func summarize(c contender, ph []phase, recs []record) result {
	res := result{Name: c.name, About: c.about}
	var start time.Duration
	for _, p := range ph {
		end := start + p.Dur
		var lat []time.Duration
		var good, ref, fail, n int
		for _, r := range recs {
			if r.at < start || r.at >= end {
				continue
			}
			n++
			switch r.out {
			case ok:
				good++
			case refused:
				ref++
				continue
			case failed:
				fail++
			}
			lat = append(lat, r.latency)
		}
		slices.Sort(lat)
		res.Phases = append(res.Phases, phaseResult{
			Goodput: float64(good) / p.Dur.Seconds(),
			P50:     quantile(lat, 0.50),
			P99:     quantile(lat, 0.99),
			Refused: share(ref, n),
			Failed:  share(fail, n),
		})
		start = end
	}
	res.Recover = recovery(ph, recs)
	return res
}

// median returns the median of each figure over runs of one contender.
func median(runs []result) result {
	out := runs[0]
	out.Phases = slices.Clone(out.Phases)
	out.Recover = slices.Clone(out.Recover)
	mid := func(f func(result) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for i := range out.Phases {
		p := &out.Phases[i]
		p.Goodput = mid(func(r result) float64 { return r.Phases[i].Goodput })
		p.P50 = time.Duration(mid(func(r result) float64 { return float64(r.Phases[i].P50) }))
		p.P99 = time.Duration(mid(func(r result) float64 { return float64(r.Phases[i].P99) }))
		p.Refused = mid(func(r result) float64 { return r.Phases[i].Refused })
		p.Failed = mid(func(r result) float64 { return r.Phases[i].Failed })
	}
	for i := range out.Recover {
		// "not within the phase" (-1) sorts last: it is the slowest.
		out.Recover[i] = time.Duration(mid(func(r result) float64 {
			if r.Recover[i] < 0 {
				return math.MaxFloat64
			}
			return float64(r.Recover[i])
		}))
		if float64(out.Recover[i]) >= math.MaxInt64 {
			out.Recover[i] = -1
		}
	}
	return out
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(q*float64(len(sorted))), len(sorted)-1)]
}

// recoveryWindow is how long the service must look as it did in the first
// (steady) phase to count as recovered.
const (
	recoveryWindow = time.Second
	recoveryStep   = 100 * time.Millisecond
)

// recovery returns, for each phase whose load and dependency are back to
// the first phase's after a different phase, how long after its start the
// first recoveryWindow of arrivals begins in which the share of requests
// served within their deadline is at least 95% of that share in the first
// phase; -1 if none begins within the phase.
func recovery(ph []phase, recs []record) []time.Duration {
	rate := func(from, to time.Duration) (float64, bool) {
		i, _ := slices.BinarySearchFunc(recs, from, func(r record, t time.Duration) int { return cmpDur(r.at, t) })
		var good, n int
		for ; i < len(recs) && recs[i].at < to; i++ {
			n++
			if recs[i].out == ok {
				good++
			}
		}
		return share(good, n), n > 0
	}
	base, _ := rate(0, ph[0].Dur)
	var out []time.Duration
	start := ph[0].Dur
	for i := 1; i < len(ph); i++ {
		p := ph[i]
		if p.Load == ph[0].Load && p.Slow == ph[0].Slow && (ph[i-1].Load != p.Load || ph[i-1].Slow != p.Slow) {
			found := time.Duration(-1)
			for t := start; t+recoveryWindow <= start+p.Dur; t += recoveryStep {
				if r, any := rate(t, t+recoveryWindow); any && r >= 0.95*base {
					found = t - start
					break
				}
			}
			out = append(out, found)
		}
		start += p.Dur
	}
	return out
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// table writes the results as one Markdown table per phase, and the
// recovery times.
func table(w io.Writer, ph []phase, res []result) {
	for i, p := range ph {
		fmt.Fprintf(w, "\n**%s** (%s, arrivals %.0f/s, dependency ×%g)\n\n", p.Name, p.Dur, p.Load*capacity, p.Slow)
		fmt.Fprintln(w, "| contender | goodput/s | p50 | p99 | refused | failed or late |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, r := range res {
			f := r.Phases[i]
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.1f%% | %.1f%% |\n", r.Name, f.Goodput, ms(f.P50), ms(f.P99), 100*f.Refused, 100*f.Failed)
		}
	}
	fmt.Fprintln(w, "\n**time to recover** (first 1 s of arrivals served as well as in the steady phase, within 5%)")
	fmt.Fprintln(w)
	var after []string
	for i := 1; i < len(ph); i++ {
		if ph[i].Load == ph[0].Load && ph[i].Slow == ph[0].Slow && (ph[i-1].Load != ph[i].Load || ph[i-1].Slow != ph[i].Slow) {
			after = append(after, ph[i-1].Name)
		}
	}
	fmt.Fprintf(w, "| contender | %s |\n", strings.Join(prefix("after ", after), " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---:|", len(after)))
	for _, r := range res {
		var cells []string
		for _, d := range r.Recover {
			if d < 0 {
				cells = append(cells, "not within the phase")
			} else {
				cells = append(cells, fmt.Sprintf("%.1f s", d.Seconds()))
			}
		}
		fmt.Fprintf(w, "| %s | %s |\n", r.Name, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w, "\n**contenders**")
	fmt.Fprintln(w)
	for _, r := range res {
		fmt.Fprintf(w, "- %s: %s\n", r.Name, r.About)
	}
}

func prefix(p string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = p + v
	}
	return out
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}
