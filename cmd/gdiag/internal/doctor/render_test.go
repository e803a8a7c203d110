package doctor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

func sampleReport() *Report {
	return &Report{
		Target: "1234", PID: 1234, GoVersion: "go1.26.8", Window: "20s",
		Findings: []Finding{{
			Finding: schedstats.Finding{Cause: schedstats.CauseGoroutineLeak, Severity: schedstats.Critical,
				Summary: "Goroutines grew by 900 over the window without levelling off.",
				Evidence: []schedstats.Evidence{{Name: "goroutines", Value: 950, Unit: "goroutines", Trend: []float64{50, 500, 950}},
					{Name: "p99", Value: 4.194304, Unit: "seconds", AtMost: true}, {Name: "longest", Value: 0.0123, Unit: "seconds"}}},
			Title: "Goroutine leak in main.leaky", Score: 109,
			Stacks:    []Stack{{Count: 910, Growth: 900, State: "chan receive", Frames: []string{"main.leaky (main.go:42)"}}},
			Functions: []Func{{Name: "main.hot", Flat: 1.5, Percent: 60, Unit: "seconds"}},
			Next:      []string{"gdiag goroutines 1234 --state 'chan receive'"},
		}},
		NotChecked: []string{"one key taking a pool: no per-key figures"},
	}
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"gdiag doctor 1234, go1.26.8, watched 20s",
		"1. [CRITICAL] Goroutine leak in main.leaky",
		"goroutines  950 goroutines  ▁▄█",
		"p99         ≤4.2s",
		"longest     12.3ms",
		"910 goroutines (+900) [chan receive]:",
		"main.leaky (main.go:42)",
		" 60.0%        1.5s  main.hot",
		"next: gdiag goroutines 1234 --state 'chan receive'",
		"not checked: one key taking a pool",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Render() lacks %q; got\n%s", want, out)
		}
	}
}

func TestRenderHealthy(t *testing.T) {
	var b bytes.Buffer
	rep := &Report{Target: "http://x", Window: "5s", Findings: []Finding{}, Checked: []string{"goroutine growth"}, Errors: []string{"process exited after 3s"}}
	if err := Render(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no findings", "checked: goroutine growth", "error: process exited after 3s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Render(healthy) lacks %q; got\n%s", want, b.String())
		}
	}
}

func TestSparkline(t *testing.T) {
	cases := []struct {
		in   []float64
		want string
	}{
		{[]float64{0, 7}, "▁█"},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8}, "▁▂▃▄▅▆▇█"},
		{[]float64{3, 3, 3}, "▁▁▁"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := Sparkline(c.in); got != c.want {
			t.Errorf("Sparkline(%v) = %q; want %q", c.in, got, c.want)
		}
	}
	long := make([]float64, 300)
	if got := len([]rune(Sparkline(long))); got != maxSpark {
		t.Errorf("len(Sparkline(300 points)) = %d; want %d", got, maxSpark)
	}
}

// contract mirrors the JSON shape promised to scripts and the incidents
// end-to-end test; decoding strictly catches a renamed or added field.
type contract struct {
	Target   string `json:"target"`
	PID      int    `json:"pid,omitempty"`
	Window   string `json:"window"`
	Findings []struct {
		Cause    string  `json:"cause"`
		Title    string  `json:"title"`
		Severity string  `json:"severity"`
		Score    float64 `json:"score"`
		Summary  string  `json:"summary"`
		Evidence []struct {
			Name   string    `json:"name"`
			Value  float64   `json:"value"`
			Unit   string    `json:"unit,omitempty"`
			AtMost bool      `json:"atMost,omitempty"` // value is an upper bound (a histogram quantile)
			Trend  []float64 `json:"trend,omitempty"`
		} `json:"evidence"`
		Stacks []struct {
			Count  int      `json:"count"`
			Growth int      `json:"growth,omitempty"`
			State  string   `json:"state,omitempty"`
			Frames []string `json:"frames"`
		} `json:"stacks,omitempty"`
		Functions []struct {
			Name    string  `json:"name"`
			Flat    float64 `json:"flat"`
			Percent float64 `json:"percent"`
			Unit    string  `json:"unit"`
		} `json:"functions,omitempty"`
		Pool string   `json:"pool,omitempty"`
		Next []string `json:"next"`
	} `json:"findings"`
	NotChecked []string `json:"notChecked,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

func TestReportJSONShape(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c contract
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode report strictly: %v\n%s", err, b)
	}
	if c.Findings[0].Cause != schedstats.CauseGoroutineLeak || c.Findings[0].Evidence[0].Trend[2] != 950 || c.Findings[0].Stacks[0].Growth != 900 {
		t.Errorf("decoded report = %+v; want the sample's figures", c)
	}
	b, _ = json.Marshal(&Report{Findings: []Finding{}})
	if !strings.Contains(string(b), `"findings":[]`) {
		t.Errorf("healthy report JSON = %s; want findings as []", b)
	}
}

func TestGradeAndRank(t *testing.T) {
	cases := []struct {
		measure, threshold float64
		sev                schedstats.Severity
		score              float64
	}{
		{2, 1, schedstats.Warning, 2},
		{1, 1, schedstats.Warning, 1},
		{4, 1, schedstats.Critical, 104},
		{1e9, 1, schedstats.Critical, 199},
		{0.5, 0, schedstats.Warning, 1},
	}
	for _, c := range cases {
		sev, score := grade(c.measure, c.threshold)
		if sev != c.sev || score != c.score {
			t.Errorf("grade(%v, %v) = %s, %v; want %s, %v", c.measure, c.threshold, sev, score, c.sev, c.score)
		}
	}
	fs := []Finding{{Finding: schedstats.Finding{Cause: schedstats.CauseSTWPauses}, Score: 2}, {Finding: schedstats.Finding{Cause: schedstats.CauseGCPressure}, Score: 104}, {Finding: schedstats.Finding{Cause: schedstats.CauseCPUSaturation}, Score: 2}}
	rank(fs)
	if fs[0].Cause != schedstats.CauseGCPressure || fs[1].Cause != schedstats.CauseCPUSaturation || fs[2].Cause != schedstats.CauseSTWPauses {
		t.Errorf("rank = %s; want gc, then cpu before stw on a tie", causes(fs))
	}
	sym := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseSTWPauses, Severity: schedstats.Critical}, Score: 150}
	demote(&sym, Finding{Finding: schedstats.Finding{Cause: schedstats.CauseGCPressure}, Score: 2})
	if sym.Score >= 2 || sym.Severity != schedstats.Critical {
		t.Errorf("demote(150 below 2) = %v %s; want below 2, severity kept", sym.Score, sym.Severity)
	}
}
