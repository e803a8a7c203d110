package profile

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Top is the flat/cum table of a profile, per function, as go tool pprof
// -top prints it (and gdiag profile --json's "top" field).
type Top struct {
	SampleType string `json:"sampleType"` // the sample type summed, e.g. "cpu", "inuse_space"
	Unit       string `json:"unit"`       // its unit as the profile names it: "nanoseconds", "bytes", "count"
	Total      int64  `json:"total"`      // sum over all samples, in Unit
	Samples    int    `json:"samples"`    // number of samples in the profile
	// DurationNanos is the capture time the profile records (zero for a
	// point-in-time profile).
	DurationNanos int64 `json:"durationNanos,omitempty"`
	Functions     []Row `json:"functions"` // by flat value, largest first; at most N
	// Omitted counts the functions beyond N that Functions leaves out.
	Omitted int `json:"omitted"`
}

// Row is one function of a Top table. Flat is the value of the samples
// whose innermost frame is the function; Cum also counts the samples where
// it is further up the stack (once per sample, however often it recurs).
type Row struct {
	Function string  `json:"function"`
	Flat     int64   `json:"flat"`
	FlatPct  float64 `json:"flatPct"` // of Total
	SumPct   float64 `json:"sumPct"`  // flatPct of this row and those above it
	Cum      int64   `json:"cum"`
	CumPct   float64 `json:"cumPct"`
}

// sampleTypes is the sample type each profile is best read by: what an
// engineer asks of it (time on CPU, memory held now, memory allocated,
// time waited, goroutines alive).
var sampleTypes = map[string]string{
	"cpu":       "cpu",
	"heap":      "inuse_space",
	"allocs":    "alloc_space",
	"mutex":     "delay",
	"block":     "delay",
	"goroutine": "goroutine",
	// goroutineleak counts the goroutines the runtime proved blocked
	// forever (Go 1.26, GOEXPERIMENT=goroutineleakprofile).
	"goroutineleak": "goroutine",
	"threadcreate":  "threadcreate",
	"wall":          "time",
}

// sampleIndex picks the sample type for a profile named name ("cpu",
// "heap", ...; "" for a file of unknown kind). It falls back to pprof's own
// default (DefaultSampleType, else the last type), which for every runtime
// profile is the same choice.
func sampleIndex(p *profile.Profile, name string) int {
	if want, ok := sampleTypes[name]; ok {
		for i, st := range p.SampleType {
			if st.Type == want {
				return i
			}
		}
	}
	if i, err := p.SampleIndexByName(""); err == nil {
		return i
	}
	return len(p.SampleType) - 1
}

// MakeTop sums p's samples per function for the sample type that suits the
// profile named name, and keeps the n largest by flat value (all when n <= 0).
// Ties are broken by name, as pprof does, so the table is deterministic.
func MakeTop(p *profile.Profile, name string, n int) Top {
	t := Top{Samples: len(p.Sample), DurationNanos: p.DurationNanos, Functions: []Row{}}
	if len(p.SampleType) == 0 {
		return t
	}
	idx := sampleIndex(p, name)
	t.SampleType, t.Unit = p.SampleType[idx].Type, p.SampleType[idx].Unit
	var all []Row
	all, t.Total = byFunction(p, idx)
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if fa, fb := abs(a.Flat), abs(b.Flat); fa != fb {
			return fa > fb
		}
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		return abs(a.Cum) > abs(b.Cum)
	})
	if n > 0 && len(all) > n {
		t.Omitted = len(all) - n
		all = all[:n]
	}
	var sum int64
	for i := range all {
		sum += all[i].Flat
		all[i].FlatPct = pct(all[i].Flat, t.Total)
		all[i].SumPct = pct(sum, t.Total)
		all[i].CumPct = pct(all[i].Cum, t.Total)
	}
	t.Functions = all
	return t
}

// byFunction sums sample value idx per function, and over all samples.
// Rows with nothing in them are left out, as pprof's graph leaves them.
func byFunction(p *profile.Profile, idx int) ([]Row, int64) {
	rows := map[string]*Row{}
	var total int64
	seen := map[string]bool{}
	add := func(fn string, v int64, leaf bool) {
		r := rows[fn]
		if r == nil {
			r = &Row{Function: fn}
			rows[fn] = r
		}
		if leaf {
			r.Flat += v
		}
		if !seen[fn] { // recursion counts once in cum
			seen[fn] = true
			r.Cum += v
		}
	}
	for _, s := range p.Sample {
		if idx >= len(s.Value) {
			continue
		}
		v := s.Value[idx]
		total += v
		clear(seen)
		for i, loc := range s.Location {
			// Line[0] is the innermost of the functions inlined here.
			for j, ln := range loc.Line {
				add(funcName(ln), v, i == 0 && j == 0)
			}
			if len(loc.Line) == 0 { // unsymbolized
				add(funcName(profile.Line{}), v, i == 0)
			}
		}
	}
	all := make([]Row, 0, len(rows))
	for _, r := range rows {
		if r.Flat != 0 || r.Cum != 0 {
			all = append(all, *r)
		}
	}
	return all, total
}

func funcName(ln profile.Line) string {
	if ln.Function != nil && ln.Function.Name != "" {
		return ln.Function.Name
	}
	return "<unknown>" // as pprof names it when it groups by function
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func pct(v, total int64) float64 {
	if total == 0 {
		return 0
	}
	return math.Round(float64(v)/float64(total)*10000) / 100
}

// Print writes t as go tool pprof -top does: a header line, then flat,
// flat%, sum%, cum, cum% and the function name.
func (t Top) Print(w io.Writer, what string) {
	unit := t.outputUnit()
	fmt.Fprintf(w, "%s: %s", what, t.SampleType)
	if t.DurationNanos > 0 {
		fmt.Fprintf(w, " over %v", time.Duration(t.DurationNanos).Round(time.Millisecond))
	}
	fmt.Fprintf(w, ", total %s in %d samples", label(t.Total, t.Unit, unit), t.Samples)
	if t.Omitted > 0 {
		fmt.Fprintf(w, "; top %d of %d functions", len(t.Functions), len(t.Functions)+t.Omitted)
	}
	fmt.Fprintln(w)
	if len(t.Functions) == 0 {
		fmt.Fprintln(w, "no samples")
		return
	}
	fmt.Fprintf(w, "%10s %6s %6s %10s %6s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", "function")
	var sum int64
	for _, r := range t.Functions {
		sum += r.Flat
		fmt.Fprintf(w, "%10s %s %s %10s %s  %s\n",
			label(r.Flat, t.Unit, unit), percent(r.Flat, t.Total), percent(sum, t.Total),
			label(r.Cum, t.Unit, unit), percent(r.Cum, t.Total), r.Function)
	}
}

// percent formats like pprof's measurement.Percentage: two decimals, at
// least two significant digits for small values.
func percent(v, total int64) string {
	var r float64
	if total != 0 {
		r = math.Abs(float64(v)/float64(total)) * 100
	}
	switch {
	case r >= 99.95 && r <= 100.05:
		return "  100%"
	case r >= 1:
		return fmt.Sprintf("%5.2f%%", r)
	}
	return fmt.Sprintf("%5.2g%%", r)
}

// scale is one step of a unit ladder, as pprof's measurement package has it.
type scale struct {
	name   string
	factor float64
}

var (
	byteScales = []scale{{"B", 1}, {"kB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"TB", 1 << 40}}
	timeScales = []scale{{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"hrs", 3600e9}}
)

// ladder returns the scales for a profile unit, in its base unit, or nil
// for counts.
func ladder(unit string) ([]scale, float64) {
	switch strings.TrimSuffix(strings.ToLower(unit), "s") {
	case "byte", "b":
		return byteScales, 1
	case "nanosecond", "n":
		return timeScales, 1
	case "microsecond":
		return timeScales, 1e3
	case "millisecond":
		return timeScales, 1e6
	case "second":
		return timeScales, 1e9
	}
	return nil, 1
}

// outputUnit picks one unit for the whole table the way pprof's "minimum"
// does: that of the smallest value, raised while that value stays >= 0.01.
func (t Top) outputUnit() scale {
	steps, base := ladder(t.Unit)
	if steps == nil {
		return scale{}
	}
	var min int64
	for _, r := range t.Functions {
		v := abs(r.Flat)
		if v == 0 {
			v = abs(r.Cum)
		}
		if v > 0 && (min == 0 || v < min) {
			min = v
		}
	}
	if min == 0 {
		min = abs(t.Total)
	}
	pick := func(v float64) scale {
		s := steps[0]
		for _, c := range steps {
			if v >= c.factor {
				s = c
			}
		}
		return s
	}
	lo, hi := pick(float64(min)*base), pick(float64(abs(t.Total))*base)
	if lo != hi && min*100 < abs(t.Total) {
		lo = pick(float64(min) * base * 100)
	}
	return lo
}

// label formats v (in unit) in the output unit, as pprof does: two
// decimals with ".00" dropped, and "0" for zero.
func label(v int64, unit string, out scale) string {
	_, base := ladder(unit)
	if out.name == "" {
		return fmt.Sprint(v)
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.2f", float64(v)*base/out.factor), ".00")
	if s == "0" || s == "-0" {
		return "0"
	}
	return s + out.name
}
