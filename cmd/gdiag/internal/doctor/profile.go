package doctor

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/pprofdata"
	"github.com/google/pprof/profile"
)

// maxProfile bounds a profile doctor reads, so a huge answer cannot
// exhaust memory; real profiles are far smaller.
const maxProfile = 64 << 20

// readProfile parses a pprof profile (gzipped or not) from r, bounded as
// and once inflated (pprofdata.MaxBytes).
func readProfile(r io.Reader) (*profile.Profile, error) {
	_, p, err := pprofdata.Read(r)
	return p, err
}

// valueIndex returns the index of the sample type named one of names, or -1.
func valueIndex(p *profile.Profile, names ...string) int {
	for _, n := range names {
		for i, st := range p.SampleType {
			if st.Type == n {
				return i
			}
		}
	}
	return -1
}

// sampleFuncs returns a sample's function names, innermost first.
func sampleFuncs(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		// Inlined calls come first within a location.
		for _, ln := range loc.Line {
			if ln.Function != nil {
				out = append(out, ln.Function.Name)
			}
		}
	}
	return out
}

// gcFuncs are the prefixes of the runtime functions whose CPU time is the
// garbage collector's: marking by the background workers and by
// allocating goroutines' assists (gcAssistAlloc, gcDrainN), scanning,
// sweeping and scavenging. A sample counts as GC when any frame matches,
// so the leaf functions below them (memclr, findObject) count too. The
// names have been stable from Go 1.19 to 1.26.
var gcFuncs = []string{
	"runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.gcDrain", "runtime.markroot",
	"runtime.scanobject", "runtime.scanblock", "runtime.scanstack", "runtime.greyobject",
	"runtime.bgsweep", "runtime.sweepone", "runtime.deductSweepCredit", "runtime.(*sweepLocked).sweep",
	"runtime.bgscavenge", "runtime.gcStart", "runtime.gcMarkDone", "runtime.gcMarkTermination",
}

func inGC(funcs []string) bool {
	for _, f := range funcs {
		for _, g := range gcFuncs {
			if strings.HasPrefix(f, g) {
				return true
			}
		}
	}
	return false
}

// summarizeCPU reduces a CPU profile to totals and top functions.
func summarizeCPU(p *profile.Profile, d time.Duration, top int) *CPUProfile {
	out := &CPUProfile{Duration: d}
	if p.DurationNanos > 0 {
		out.Duration = time.Duration(p.DurationNanos)
	}
	vi := valueIndex(p, "cpu")
	if vi < 0 {
		return out
	}
	flat, app := map[string]float64{}, map[string]float64{}
	for _, s := range p.Sample {
		if vi >= len(s.Value) || s.Value[vi] <= 0 {
			continue
		}
		secs := float64(s.Value[vi]) / 1e9
		fs := sampleFuncs(s)
		out.Seconds += secs
		if inGC(fs) {
			out.GCSeconds += secs
		}
		if len(fs) > 0 {
			flat[fs[0]] += secs
			app[culprit(fs)] += secs
		}
	}
	out.Top = topFuncs(flat, out.Seconds, "seconds", top)
	out.App = topFuncs(app, out.Seconds, "seconds", top)
	return out
}

// lockFuncs are the calls a block-profile sample must contain to count as
// waiting for a lock (the block profile also records channel and select
// waits, which an idle server is full of).
var lockFuncs = []string{"sync.(*Mutex).Lock", "sync.(*RWMutex).Lock", "sync.(*RWMutex).RLock"}

// contentionTotals sums a mutex or block profile's delay by culprit
// function. lockOnly keeps only samples waiting in lockFuncs.
type contentionTotals struct {
	byFunc  map[string]float64
	delay   float64
	events  float64
	samples int
}

func totalContention(p *profile.Profile, lockOnly bool) (contentionTotals, error) {
	t := contentionTotals{byFunc: map[string]float64{}}
	ci, di := valueIndex(p, "contentions"), valueIndex(p, "delay")
	if ci < 0 || di < 0 {
		return t, fmt.Errorf("not a mutex or block profile (sample types %v)", sampleTypes(p))
	}
	unit := 1e-9 // nanoseconds, the runtime's unit
	if p.SampleType[di].Unit == "seconds" {
		unit = 1
	}
	for _, s := range p.Sample {
		if ci >= len(s.Value) || di >= len(s.Value) {
			continue
		}
		t.samples++
		fs := sampleFuncs(s)
		if lockOnly && !slices.ContainsFunc(fs, func(f string) bool { return slices.Contains(lockFuncs, f) }) {
			continue
		}
		delay := float64(max(s.Value[di], 0)) * unit
		t.delay += delay
		t.events += float64(max(s.Value[ci], 0))
		t.byFunc[culprit(fs)] += delay
	}
	return t, nil
}

func sampleTypes(p *profile.Profile) []string {
	var out []string
	for _, st := range p.SampleType {
		out = append(out, st.Type)
	}
	return out
}

// contentionDelta is what changed between two readings of a cumulative
// mutex or block profile.
func contentionDelta(start, end contentionTotals, top int) *Contention {
	c := &Contention{
		Seconds: max(end.delay-start.delay, 0),
		Events:  max(end.events-start.events, 0),
		Empty:   end.samples == 0,
	}
	c.Top = topFuncs(subMaps(end.byFunc, start.byFunc), c.Seconds, "seconds", top)
	return c
}

// allocTotals sums an allocs profile's allocated bytes by allocating function.
func allocTotals(p *profile.Profile) (map[string]float64, float64, error) {
	vi := valueIndex(p, "alloc_space")
	if vi < 0 {
		return nil, 0, fmt.Errorf("not an allocs profile (sample types %v)", sampleTypes(p))
	}
	by := map[string]float64{}
	var total float64
	for _, s := range p.Sample {
		if vi >= len(s.Value) || s.Value[vi] <= 0 {
			continue
		}
		v := float64(s.Value[vi])
		total += v
		fs := sampleFuncs(s)
		fn := "unknown"
		// The first frame outside the runtime is the allocation site.
		for _, f := range fs {
			if pkgOf(f) != "runtime" {
				fn = f
				break
			}
		}
		by[fn] += v
	}
	return by, total, nil
}

func subMaps(end, start map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(end))
	for k, v := range end {
		if d := v - start[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// topFuncs returns the n largest entries of by, with their share of total.
func topFuncs(by map[string]float64, total float64, unit string, n int) []Func {
	out := make([]Func, 0, len(by))
	for name, v := range by {
		if v <= 0 {
			continue
		}
		pct := 0.0
		if total > 0 {
			pct = 100 * v / total
		}
		out = append(out, Func{Name: name, Flat: v, Percent: pct, Unit: unit})
	}
	slices.SortFunc(out, func(a, b Func) int {
		if c := cmp.Compare(b.Flat, a.Flat); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(out) > n {
		out = out[:n]
	}
	// Below one percent a function explains nothing; the first stays.
	for i := 1; i < len(out); i++ {
		if out[i].Percent < 1 {
			return out[:i]
		}
	}
	return out
}
