package doctor

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// maxSpark is the widest sparkline printed; longer trends are resampled.
const maxSpark = 40

// Render writes rep as text: a header, each finding with its evidence,
// stacks, functions and next commands, then what was not checked.
func Render(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "gdiag doctor %s", rep.Target)
	if rep.PID != 0 && fmt.Sprint(rep.PID) != rep.Target {
		fmt.Fprintf(&b, " (pid %d)", rep.PID)
	}
	if rep.GoVersion != "" {
		fmt.Fprintf(&b, ", %s", rep.GoVersion)
	}
	fmt.Fprintf(&b, ", watched %s\n", rep.Window)
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	if len(rep.Findings) == 0 {
		b.WriteString("\nno findings\n")
		if len(rep.Checked) > 0 {
			fmt.Fprintf(&b, "checked: %s\n", strings.Join(rep.Checked, "; "))
		}
	}
	for i, f := range rep.Findings {
		renderFinding(&b, i+1, f)
	}
	if len(rep.NotChecked) > 0 {
		b.WriteByte('\n')
	}
	for _, n := range rep.NotChecked {
		fmt.Fprintf(&b, "not checked: %s\n", n)
	}
	if rep.Trace != "" {
		fmt.Fprintf(&b, "\ntrace saved: %s (doctor keeps its newest %d traces there, at most %d MiB)\n", rep.Trace, maxTraces, maxTraceBytes>>20)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func renderFinding(b *strings.Builder, n int, f Finding) {
	fmt.Fprintf(b, "\n%d. [%s] %s\n", n, strings.ToUpper(f.Severity.String()), f.Title)
	fmt.Fprintf(b, "   %s\n", f.Summary)
	width := 0
	for _, e := range f.Evidence {
		width = max(width, len(e.Name))
	}
	for _, e := range f.Evidence {
		fmt.Fprintf(b, "   %-*s  %s", width, e.Name, formatEvidence(e))
		if len(e.Trend) > 1 {
			fmt.Fprintf(b, "  %s", Sparkline(e.Trend))
		}
		b.WriteByte('\n')
	}
	for _, s := range f.Stacks {
		fmt.Fprintf(b, "   %d goroutines", s.Count)
		if s.Growth > 0 {
			fmt.Fprintf(b, " (+%d)", s.Growth)
		}
		if s.State != "" {
			fmt.Fprintf(b, " [%s]", s.State)
		}
		b.WriteString(":\n")
		for i, fr := range s.Frames {
			if i == 8 {
				fmt.Fprintf(b, "       ... %d more frames\n", len(s.Frames)-i)
				break
			}
			fmt.Fprintf(b, "       %s\n", fr)
		}
	}
	if len(f.Functions) > 0 {
		b.WriteString("   top functions:\n")
	}
	for _, fn := range f.Functions {
		fmt.Fprintf(b, "     %5.1f%%  %10s  %s\n", fn.Percent, formatValue(fn.Flat, fn.Unit), fn.Name)
	}
	for _, c := range f.Next {
		fmt.Fprintf(b, "   next: %s\n", c)
	}
}

// formatEvidence prints an evidence figure in its unit, readably, and a
// histogram bound as a bound: "≤524ms" for a quantile.
func formatEvidence(e schedstats.Evidence) string {
	switch {
	case e.AtMost && e.Unit == "seconds":
		return cli.AtMost(e.Value)
	case e.AtMost:
		return "≤" + formatValue(e.Value, e.Unit)
	}
	return formatValue(e.Value, e.Unit)
}

// formatValue prints a figure in its unit, readably.
func formatValue(v float64, unit string) string {
	switch unit {
	case "seconds":
		return durString(v)
	case "bytes":
		return bytesString(v)
	case "bytes/second":
		return bytesString(v) + "/s"
	case "fraction":
		return fmt.Sprintf("%.1f%%", 100*v)
	case "":
		return trimFloat(v)
	}
	return trimFloat(v) + " " + unit
}

// durString prints seconds as a Go duration with about four significant
// digits: 4.194s, 11.64ms, 820ns.
func durString(s float64) string {
	d := secDur(s)
	if d == 0 && s > 0 && s < 1e-6 {
		d = time.Duration(s * 1e9)
	}
	for _, r := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if d >= 10*r {
			return d.Round(r / 100).String()
		}
	}
	return d.String()
}

func trimFloat(v float64) string {
	switch a := math.Abs(v); {
	case a == math.Trunc(a) && a < 1e15:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// Sparkline draws vs with the block characters ▁ to █, scaled from the
// smallest value to the largest; a flat series is drawn at its level
// against zero: a row of █ above zero, of ▁ at zero or below. Trends
// longer than maxSpark are averaged down to maxSpark points.
func Sparkline(vs []float64) string {
	const bars = "▁▂▃▄▅▆▇█"
	levels := []rune(bars)
	vs = resample(vs, maxSpark)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var b strings.Builder
	for _, v := range vs {
		i := 0
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
		case hi > lo:
			i = int((v - lo) / (hi - lo) * float64(len(levels)-1))
		case v > 0: // flat: at its level, the top, not at the bottom
			i = len(levels) - 1
		}
		b.WriteRune(levels[min(max(i, 0), len(levels)-1)])
	}
	return b.String()
}

func resample(vs []float64, n int) []float64 {
	if len(vs) <= n {
		return vs
	}
	out := make([]float64, n)
	for i := range out {
		lo, hi := i*len(vs)/n, (i+1)*len(vs)/n
		out[i] = mean(vs[lo:hi])
	}
	return out
}
