package doctor

import (
	"cmp"
	"math"
	"slices"

	"github.com/gdiag/gdiag/schedstats"
)

// Report is doctor's result, printed as text or, with --json, as this
// struct.
type Report struct {
	Target     string    `json:"target"`
	PID        int       `json:"pid,omitempty"`
	GoVersion  string    `json:"-"`                    // shown in the text header only: the JSON shape is a fixed contract
	Window     string    `json:"window"`               // Go duration actually watched
	Findings   []Finding `json:"findings"`             // ranked, most important first; [] when healthy
	Checked    []string  `json:"-"`                    // what was looked at, for the text "no findings"
	NotChecked []string  `json:"notChecked,omitempty"` // what could not be checked, and why
	Errors     []string  `json:"errors,omitempty"`     // e.g. "process exited after 7s"
	Trace      string    `json:"trace,omitempty"`      // the flight-recorder trace saved, if any
}

// Finding is one cause doctor names: a schedstats.Finding (its cause, one
// of the schedstats Cause constants, severity, summary and evidence) with
// what doctor adds: a title, a score for ranking, the stacks or functions
// involved, the pool concerned and the commands to run next.
type Finding struct {
	schedstats.Finding
	Title     string   `json:"title"` // plain words: "Goroutine leak in handler.wait"
	Score     float64  `json:"score"` // used for ranking; higher first
	Stacks    []Stack  `json:"stacks,omitempty"`
	Functions []Func   `json:"functions,omitempty"`
	Pool      string   `json:"pool,omitempty"`
	Next      []string `json:"next"` // commands to run next
}

// Stack is a group of goroutines with the same stack; Growth is how many
// more there were at the end of the window than at its start.
type Stack struct {
	Count  int      `json:"count"`
	Growth int      `json:"growth,omitempty"`
	State  string   `json:"state,omitempty"`
	Frames []string `json:"frames"`
}

// Func is one function of a profile with its share of the total.
type Func struct {
	Name    string  `json:"name"`
	Flat    float64 `json:"flat"`
	Percent float64 `json:"percent"`
	Unit    string  `json:"unit"`
}

// criticalFactor raises a finding to critical when its measure reaches
// this multiple of its threshold, as schedstats.Thresholds does by default.
const criticalFactor = 4

// grade returns the severity and score of a measure that passed threshold.
// The score is how many times past the threshold the measure is, plus 100
// for a critical finding, so criticals rank first and, within a severity,
// the further past its threshold the higher. It is capped so that one
// absurd figure cannot hide the rest, and is never NaN.
func grade(measure, threshold float64) (schedstats.Severity, float64) {
	ratio := 1.0
	if threshold > 0 && measure > 0 {
		ratio = measure / threshold
	}
	if math.IsNaN(ratio) || ratio < 1 {
		ratio = 1
	}
	ratio = math.Min(ratio, 99)
	if ratio >= criticalFactor {
		return schedstats.Critical, 100 + ratio
	}
	return schedstats.Warning, ratio
}

// rank sorts findings by score, highest first; ties keep a fixed order of
// causes so output is stable.
func rank(fs []Finding) {
	order := map[string]int{schedstats.CauseLeakProven: 0, schedstats.CauseLockStall: 0, schedstats.CauseGoroutineLeak: 1, schedstats.CauseLeakStatic: 2,
		schedstats.CauseCPUStarved: 3, schedstats.CauseCPUSaturation: 4, schedstats.CauseMutexContention: 5, schedstats.CauseGCPressure: 6,
		schedstats.CausePoolOverload: 7, schedstats.CausePoolShedding: 8, schedstats.CausePoolBreaker: 9, schedstats.CauseThreadGrowth: 10,
		schedstats.CausePreemptionDelay: 11, schedstats.CauseSTWPauses: 12, schedstats.CauseConnectionGrowth: 13}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(order[a.Cause], order[b.Cause])
	})
}

// finding returns the first finding of cause, nil when there is none:
// for the causes whose rule adds one finding at most (not pool-overload,
// which has one per pool).
func (a *analysis) finding(cause string) *Finding {
	for i := range a.findings {
		if a.findings[i].Cause == cause {
			return &a.findings[i]
		}
	}
	return nil
}

// scoreBelow is the score that ranks a finding just under f: 90% of f's.
func scoreBelow(f Finding) float64 { return math.Round(f.Score*90) / 100 }

// demote ranks f, a symptom, below cause, the finding that explains it
// (a long GC pause under GC pressure, say): the symptom stays listed, with a
// note, and its severity is kept.
func demote(f *Finding, cause Finding) {
	if f.Score >= cause.Score {
		f.Score = scoreBelow(cause)
	}
	f.Summary += " Likely a consequence of the " + cause.Cause + " finding."
}
