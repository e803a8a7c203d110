package sched

import (
	"math"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// maxHistory bounds the snapshots a long-running view keeps: five minutes
// at the agent's default one-second sampling, and about 1 MB of histograms.
const maxHistory = 300

// onceHistory is the history one frame or one JSON report starts from:
// a minute at the agent's default sampling, for the sparklines of an
// 80-column frame and the pauses of that minute.
const onceHistory = 60

// history is the snapshots the view knows, oldest first, with strictly
// increasing times.
type history struct {
	snaps []schedstats.Snapshot
	// os, when set, returns the kernel's view of the process that came
	// with the latest snapshot (nil when the agent does not serve it).
	os func() *apiv1.OS
}

// osView returns the kernel's view of the process, or nil.
func (h *history) osView() *apiv1.OS {
	if h.os == nil {
		return nil
	}
	return h.os()
}

// add appends s if it is newer than the latest snapshot and reports
// whether it did.
func (h *history) add(s schedstats.Snapshot) bool {
	if n := len(h.snaps); n > 0 && !s.Time.After(h.snaps[n-1].Time) {
		return false
	}
	if len(h.snaps) == maxHistory {
		h.snaps = append(h.snaps[:0], h.snaps[1:]...)
	}
	h.snaps = append(h.snaps, s)
	return true
}

// latest returns the newest snapshot; ok is false when there is none.
func (h *history) latest() (s schedstats.Snapshot, ok bool) {
	if len(h.snaps) == 0 {
		return s, false
	}
	return h.snaps[len(h.snaps)-1], true
}

// Dist summarises a histogram's values, in seconds, by gdiag's quantile
// rule (schedstats.Histogram.Quantile): each figure is the upper bound of
// the bucket that holds it, so the true value is at most that. With Count
// zero all figures are 0 (JSON has no NaN).
type Dist struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"` // the quantile 1: upper bound of the highest non-empty bucket

	// over marks the figures that lie in the open-ended last bucket: they
	// are its lower bound, which the true value exceeds.
	over [4]bool
	// maxLo is the lower bound of the bucket that holds the maximum: the
	// maximum is at least that (0 when unknown).
	maxLo float64
}

func dist(h schedstats.Histogram) Dist {
	d := Dist{Count: h.Count()}
	if d.Count == 0 || math.IsNaN(h.Quantile(0.5)) {
		return Dist{Count: d.Count}
	}
	for i, p := range []*float64{&d.P50, &d.P90, &d.P99, &d.Max} {
		q := [...]float64{0.5, 0.9, 0.99, 1}[i]
		_, hi := h.QuantileBucket(q)
		*p, d.over[i] = h.Quantile(q), math.IsInf(hi, 1)
	}
	if lo, _ := h.QuantileBucket(1); lo > 0 && !math.IsInf(lo, 0) {
		d.maxLo = lo
	}
	return d
}

// text formats figure i (0 to 3: p50, p90, p99, max) as a bound: "≤5.46µs",
// or "≥39h" for one in the open-ended last bucket.
func (d Dist) text(i int) string {
	v := [...]float64{d.P50, d.P90, d.P99, d.Max}[i]
	if d.over[i] {
		return cli.AtLeast(v)
	}
	return cli.AtMost(v)
}

// Derived is what gdiag computes from the snapshots; see the package
// documentation for the windows.
type Derived struct {
	// WindowSeconds is the time between the two latest snapshots, which
	// SchedLatency and the rates cover; 0 means since the process started.
	WindowSeconds           float64 `json:"windowSeconds"`
	SchedLatency            Dist    `json:"schedLatency"`
	GoroutinesCreatedPerSec float64 `json:"goroutinesCreatedPerSec"`
	MsCreatedPerSec         float64 `json:"msCreatedPerSec"`
	MutexWaitPerSec         float64 `json:"mutexWaitPerSec"` // seconds blocked per second
	// PauseWindowSeconds is the span of history that the pause figures
	// cover; 0 means since the process started.
	PauseWindowSeconds float64 `json:"pauseWindowSeconds"`
	GCPauses           Dist    `json:"gcPauses"`
	OtherPauses        Dist    `json:"otherPauses"`
	// GCStopping and OtherStopping are the time to stop the world of the
	// same pauses (schedstats.Snapshot.GCStopping), over the same window:
	// the first part of each pause.
	GCStopping    Dist `json:"gcStopping"`
	OtherStopping Dist `json:"otherStopping"`
}

// derive computes the figures from the history; the zero Derived when it
// is empty.
func (h *history) derive() Derived {
	n := len(h.snaps)
	if n == 0 {
		return Derived{}
	}
	cur := h.snaps[n-1]
	var d Derived
	if n == 1 {
		d.SchedLatency = dist(cur.SchedLatency)
		d.GCPauses, d.OtherPauses = dist(cur.GCPauses), dist(cur.OtherPauses)
		d.GCStopping, d.OtherStopping = dist(cur.GCStopping), dist(cur.OtherStopping)
		return d
	}
	delta := schedstats.Diff(h.snaps[n-2], cur)
	d.WindowSeconds = delta.Elapsed.Seconds()
	d.SchedLatency = dist(delta.SchedLatency)
	d.GoroutinesCreatedPerSec, d.MsCreatedPerSec = delta.GoroutinesCreatedPerSec, delta.MsCreatedPerSec
	d.MutexWaitPerSec = delta.MutexWaitPerSec
	first := h.snaps[0]
	d.PauseWindowSeconds = cur.Time.Sub(first.Time).Seconds()
	d.GCPauses = dist(cur.GCPauses.Sub(first.GCPauses))
	d.OtherPauses = dist(cur.OtherPauses.Sub(first.OtherPauses))
	d.GCStopping = dist(cur.GCStopping.Sub(first.GCStopping))
	d.OtherStopping = dist(cur.OtherStopping.Sub(first.OtherStopping))
	return d
}

// series returns f over each of the last n intervals of the history
// (fewer when the history is shorter), oldest first.
func (h *history) series(n int, f func(prev, cur schedstats.Snapshot) float64) []float64 {
	start := max(1, len(h.snaps)-n)
	out := make([]float64, 0, len(h.snaps)-start)
	for i := start; i < len(h.snaps); i++ {
		out = append(out, f(h.snaps[i-1], h.snaps[i]))
	}
	return out
}

// span is the time the last n intervals of the history cover.
func (h *history) span(n int) time.Duration {
	if len(h.snaps) < 2 {
		return 0
	}
	start := max(0, len(h.snaps)-1-n)
	return h.snaps[len(h.snaps)-1].Time.Sub(h.snaps[start].Time)
}
