package pools

import (
	"math"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// Report is the --json output of gdiag pools. Durations are in seconds.
type Report struct {
	Target string `json:"target"`
	// IntervalSeconds is the time between the two readings the rates come
	// from, as measured by gdiag; 0 with --interval 0 (one reading, no rates).
	IntervalSeconds float64 `json:"intervalSeconds"`
	Pools           []Row   `json:"pools"` // in the agent's order; never null
}

// Row is one pool in a Report: the second reading's figures, and the
// rates between the two readings.
type Row struct {
	Name          string `json:"name"`
	Running       int    `json:"running"` // workers running a task
	Idle          int    `json:"idle"`    // workers waiting for one
	Workers       int    `json:"workers"` // running + idle
	MinWorkers    int    `json:"minWorkers"`
	MaxWorkers    int    `json:"maxWorkers"`
	Queued        int    `json:"queued"` // waiting for a worker
	Parked        int    `json:"parked"` // held back by the key limit; Queued + Parked never exceeds QueueCapacity
	QueueCapacity int    `json:"queueCapacity"`
	KeyLimit      int    `json:"keyLimit"` // most running tasks per key; 0 for none
	Stopped       bool   `json:"stopped"`
	// KeyLimited is true when tasks are held back by the key limit while
	// workers are free: the limit, not the worker count, holds work back.
	KeyLimited bool `json:"keyLimited"`
	// Keys are the busiest task keys (at most 10), most running first.
	Keys []apiv1.PoolKey `json:"keys"`

	Submitted uint64 `json:"submitted"` // accepted tasks
	Completed uint64 `json:"completed"`
	Failed    uint64 `json:"failed"`
	Panicked  uint64 `json:"panicked"`
	Canceled  uint64 `json:"canceled"`
	Rejected  uint64 `json:"rejected"` // refused submissions, not in Submitted
	// HookPanics counts panics recovered from the pool's observers and
	// panic handler; not a task outcome.
	HookPanics uint64 `json:"hookPanics"`

	// Rates is null with --interval 0, and for a pool that was not there at
	// the first reading.
	Rates *Rates `json:"rates"`

	QueueWait Percentiles `json:"queueWait"` // time from submission to start
	RunTime   Percentiles `json:"runTime"`   // time a task ran

	// Overload is the pool's overload controls; absent for a pool without.
	Overload *Overload `json:"overload,omitempty"`
}

// Rates are per second of wall time between two readings.
type Rates struct {
	SubmittedPerSec float64 `json:"submittedPerSec"` // "tasks/s" in the table
	CompletedPerSec float64 `json:"completedPerSec"`
	RejectedPerSec  float64 `json:"rejectedPerSec"` // "rejects/s" in the table
}

// Percentiles summarise a pool histogram over the pool's life by gdiag's
// quantile rule (schedstats.Histogram.Quantile): each is the upper bound
// of the histogram bucket that holds it. With Count zero they are 0. When
// a percentile lies above the histogram's last bound, its value is that
// bound, a lower bound of the percentile, and the matching Over flag is
// true.
type Percentiles struct {
	Count   uint64  `json:"count"` // values recorded in the histogram
	P50     float64 `json:"p50Seconds"`
	P99     float64 `json:"p99Seconds"`
	P50Over bool    `json:"p50Over"`
	P99Over bool    `json:"p99Over"`
}

// text formats the p50 and p99 as "≤p50/≤p99" ("≥" for a percentile above
// the last bound), or "-" without values.
func (p Percentiles) text() string {
	if p.Count == 0 {
		return "-"
	}
	return boundText(p.P50, p.P50Over) + "/" + boundText(p.P99, p.P99Over)
}

func boundText(v float64, over bool) string {
	if over {
		return cli.AtLeast(v)
	}
	return cli.AtMost(v)
}

// newRow builds cur's row; prev is the same pool at the first reading
// (nil for none) and elapsed the time between the readings.
func newRow(cur apiv1.Pool, prev *apiv1.Pool, elapsed time.Duration) Row {
	r := Row{
		Name: cur.Name, Running: cur.Running, Idle: cur.Idle, Workers: cur.Workers,
		MinWorkers: cur.MinWorkers, MaxWorkers: cur.MaxWorkers,
		Queued: cur.Queued, Parked: cur.Parked, QueueCapacity: cur.QueueCapacity, KeyLimit: cur.KeyLimit, Stopped: cur.Stopped,
		KeyLimited: cur.Parked > 0 && cur.Running < cur.MaxWorkers,
		Keys:       cur.Keys,
		Submitted:  cur.Submitted, Completed: cur.Completed, Failed: cur.Failed,
		Panicked: cur.Panicked, Canceled: cur.Canceled, Rejected: cur.Rejected, HookPanics: cur.HookPanics,
		QueueWait: percentiles(apiv1.Histogram(cur.QueueWait)),
		RunTime:   percentiles(apiv1.Histogram(cur.RunTime)),
	}
	if r.Keys == nil {
		r.Keys = []apiv1.PoolKey{}
	}
	r.Overload = newOverload(cur, prev, elapsed.Seconds())
	if prev != nil && elapsed > 0 {
		secs := elapsed.Seconds()
		r.Rates = &Rates{
			SubmittedPerSec: float64(sub(cur.Submitted, prev.Submitted)) / secs,
			CompletedPerSec: float64(sub(cur.Completed, prev.Completed)) / secs,
			RejectedPerSec:  float64(sub(cur.Rejected, prev.Rejected)) / secs,
		}
	}
	return r
}

func percentiles(h apiv1.Histogram) Percentiles {
	s := h.Seconds()
	p := Percentiles{Count: s.Count()}
	if p.Count == 0 {
		return p
	}
	p.P50, p.P50Over = quantile(s, 0.5)
	p.P99, p.P99Over = quantile(s, 0.99)
	return p
}

// quantile returns the q-quantile of h and whether it lies in the
// open-ended last bucket (the value is then a lower bound).
func quantile(h schedstats.Histogram, q float64) (float64, bool) {
	_, hi := h.QuantileBucket(q)
	return h.Quantile(q), math.IsInf(hi, 1)
}

// sub is a − b for counters, zero when a counter went backwards (a pool
// re-registered under the same name).
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// buildReport pairs the pools of two readings by name.
func buildReport(target string, first, second []apiv1.Pool, elapsed time.Duration) Report {
	byName := make(map[string]*apiv1.Pool, len(first))
	for i := range first {
		byName[first[i].Name] = &first[i]
	}
	rep := Report{Target: target, IntervalSeconds: elapsed.Seconds(), Pools: []Row{}}
	for _, p := range second {
		rep.Pools = append(rep.Pools, newRow(p, byName[p.Name], elapsed))
	}
	return rep
}
