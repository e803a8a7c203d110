package sched

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdiag/gdiag/schedstats"
)

// Layout of a frame line: a label, the figures, then a sparkline that
// takes what is left of the width.
const (
	labelWidth = 11
	valueWidth = 42
	sparkStart = labelWidth + valueWidth
	minSpark   = 8 // narrower than this, sparklines are dropped
	maxSpark   = 120
)

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values of vals, one character each, from
// zero to their largest value: 0 is ▁, anything above zero is ▂ to █, NaN
// (no data) is a space, negative values count as zero.
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	vals = vals[max(0, len(vals)-width):]
	top := 0.0
	for _, v := range vals {
		if v > top && !math.IsInf(v, 1) {
			top = v
		}
	}
	var b strings.Builder
	for _, v := range vals {
		switch {
		case math.IsNaN(v):
			b.WriteByte(' ')
		case v <= 0 || top == 0:
			b.WriteRune(sparkLevels[0])
		default:
			i := 1 + int(math.Round(min(v/top, 1)*float64(len(sparkLevels)-2)))
			b.WriteRune(sparkLevels[i])
		}
	}
	return b.String()
}

// frameOpts is what a frame shows besides the data.
type frameOpts struct {
	Target  string        // as the header names it
	Width   int           // columns; 80 when zero
	Height  int           // rows; no limit when zero
	Refresh time.Duration // shown in the header; zero for a one-shot frame
	Quit    string        // how to leave, e.g. "q quits"; empty for none
	Status  string        // a problem to show at the bottom, if any
}

// line is one frame line with a priority: when the terminal is short,
// lines with the largest prio go first.
type line struct {
	text string
	prio int
}

// frame renders the history as lines of at most o.Width columns (in runes)
// and at most o.Height lines.
func frame(h *history, o frameOpts) []string {
	if o.Width <= 0 {
		o.Width = 80
	}
	cur, ok := h.latest()
	if !ok {
		return fit([]line{{text: "gdiag sched " + o.Target + ": no snapshot yet"}}, o)
	}
	sw := min(o.Width-sparkStart-1, maxSpark)
	if sw < minSpark {
		sw = 0
	}
	d := h.derive()
	r := &renderer{h: h, sw: sw}
	ls := []line{{text: header(cur, o)}}
	if sw > 0 && len(h.snaps) > 1 {
		ls = append(ls, line{text: strings.Repeat(" ", sparkStart+1) + sparkCaption(h, sw), prio: 5})
	}
	ls = append(ls, r.procs(cur, d)...)
	ls = append(ls, osRows(h.osView())...)
	ls = append(ls, r.goroutines(cur, d)...)
	ls = append(ls, r.latency(cur, d)...)
	if o.Status != "" {
		ls = append(ls, line{text: o.Status})
	}
	return fit(ls, o)
}

func header(cur schedstats.Snapshot, o frameOpts) string {
	parts := []string{"gdiag sched " + o.Target, "snapshot " + cur.Time.Local().Format("15:04:05")}
	if o.Refresh > 0 {
		parts = append(parts, "refresh "+o.Refresh.String())
	}
	if o.Quit != "" {
		parts = append(parts, o.Quit)
	}
	return strings.Join(parts, " · ")
}

func sparkCaption(h *history, sw int) string {
	n := min(sw, len(h.snaps)-1)
	return fmt.Sprintf("last %v", h.span(n).Round(time.Second))
}

// fit drops the lowest-priority lines (largest prio, the last first)
// until the frame fits o.Height, and cuts every line to o.Width runes.
func fit(ls []line, o frameOpts) []string {
	for o.Height > 0 && len(ls) > o.Height {
		drop := -1
		for i, l := range ls {
			if l.prio > 0 && (drop < 0 || l.prio >= ls[drop].prio) {
				drop = i
			}
		}
		if drop < 0 {
			ls = ls[:o.Height]
			break
		}
		ls = append(ls[:drop], ls[drop+1:]...)
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = cut(strings.TrimRight(l.text, " "), o.Width)
	}
	return out
}

// cut shortens s to at most w runes.
func cut(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	r := []rune(s)
	return string(r[:max(w, 0)])
}

// secs formats a duration in seconds to about three significant figures,
// "-" for NaN.
func secs(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	d := time.Duration(v * float64(time.Second))
	for u := time.Duration(1); u < time.Hour; u *= 10 {
		if d < 1000*u {
			return d.Round(u).String()
		}
	}
	return d.Round(time.Second).String()
}

// perSec formats a rate with one decimal below 100.
func perSec(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
}
