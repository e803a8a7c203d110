package pools

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	gdpool "github.com/gdiag/gdiag/pool"
)

const us = time.Microsecond

func hist(bounds []time.Duration, counts ...uint64) apiv1.Histogram {
	return apiv1.Histogram{Bounds: bounds, Counts: counts}
}

func TestPercentiles(t *testing.T) {
	b := []time.Duration{10 * us, 20 * us, 40 * us}
	cases := []struct {
		name string
		h    apiv1.Histogram
		want Percentiles
		text string
	}{
		{"empty", hist(b, 0, 0, 0, 0), Percentiles{}, "-"},
		{"no counts", hist(b), Percentiles{}, "-"},
		{"first bucket from zero", hist(b, 4, 0, 0, 0), Percentiles{Count: 4, P50: 10e-6, P99: 10e-6}, "≤10µs/≤10µs"},
		{"upper bound of the bucket", hist(b, 0, 0, 10, 0), Percentiles{Count: 10, P50: 40e-6, P99: 40e-6}, "≤40µs/≤40µs"},
		{"p99 in overflow", hist(b, 90, 0, 0, 10), Percentiles{Count: 100, P50: 10e-6, P99: 40e-6, P99Over: true}, "≤10µs/≥40µs"},
		{"malformed: counts do not fit the bounds", hist(b[:1], 0, 0, 5), Percentiles{}, "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := percentiles(c.h)
			if got != c.want || got.text() != c.text {
				t.Errorf("percentiles(%v) = %+v %q; want %+v %q", c.h, got, got.text(), c.want, c.text)
			}
		})
	}
}

func pool(name string, submitted, rejected uint64) apiv1.Pool {
	return apiv1.Pool{
		Name: name, MaxWorkers: 8, Workers: 3, Running: 1, Idle: 2, Queued: 4, QueueCapacity: 64,
		Submitted: submitted, Completed: submitted - 5, Rejected: rejected,
		QueueWait: gdpool.Histogram(hist([]time.Duration{10 * us, 20 * us}, 0, 10, 0)),
		RunTime:   gdpool.Histogram(hist([]time.Duration{10 * us, 20 * us}, 0, 0, 10)),
	}
}

func TestBuildReport(t *testing.T) {
	first := []apiv1.Pool{pool("http", 100, 0), pool("gone", 1, 1)}
	second := []apiv1.Pool{pool("http", 300, 50), pool("new", 10, 0)}
	rep := buildReport("1234", first, second, 2*time.Second)
	if len(rep.Pools) != 2 || rep.IntervalSeconds != 2 {
		t.Fatalf("buildReport() = %+v; want 2 pools over 2s", rep)
	}
	http, fresh := rep.Pools[0], rep.Pools[1]
	want := Rates{SubmittedPerSec: 100, CompletedPerSec: 100, RejectedPerSec: 25}
	if http.Rates == nil || *http.Rates != want {
		t.Errorf("http rates = %+v; want %+v", http.Rates, want)
	}
	if fresh.Rates != nil {
		t.Errorf("rates of a pool absent from the first reading = %+v; want nil", fresh.Rates)
	}
	if want := (Percentiles{Count: 10, P50: 20e-6, P99: 20e-6}); http.QueueWait != want {
		t.Errorf("http queueWait = %+v; want %+v", http.QueueWait, want)
	}
	if !http.RunTime.P50Over || http.RunTime.P50 != 20e-6 {
		t.Errorf("http runTime = %+v; want p50 over the last bound 20µs", http.RunTime)
	}
	one := buildReport("1234", nil, second, 0)
	if one.Pools[0].Rates != nil || one.IntervalSeconds != 0 {
		t.Errorf("buildReport(no first reading) = %+v; want no rates", one)
	}
}

func TestCounterReset(t *testing.T) {
	r := newRow(pool("p", 10, 0), &apiv1.Pool{Name: "p", Submitted: 500, Completed: 500, Rejected: 9}, time.Second)
	if *r.Rates != (Rates{}) {
		t.Errorf("rates after a reset = %+v; want zero", *r.Rates)
	}
}

func TestPrintTable(t *testing.T) {
	var out bytes.Buffer
	env := &cli.Env{Stdout: &out}
	rep := buildReport("1234", []apiv1.Pool{pool("http", 100, 0)}, []apiv1.Pool{pool("http", 300, 50)}, 2*time.Second)
	if err := printTable(env, "1234", rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	fields := strings.Fields(lines[1])
	want := []string{"http", "1/2/8", "4/0/64", "300", "295", "0", "0", "0", "50", "100", "25.0", "≤20µs/≤20µs", "≥20µs/≥20µs"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("table row = %q; want %q\n%s", fields, want, out.String())
	}
	if !strings.Contains(out.String(), "rates over 2.0s") {
		t.Errorf("table lacks the rate window:\n%s", out.String())
	}
}

func TestPrintNoPools(t *testing.T) {
	var out bytes.Buffer
	if err := printTable(&cli.Env{Stdout: &out}, "1234", buildReport("1234", nil, nil, 0)); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "no pools registered in 1234\n"; got != want {
		t.Errorf("printTable(no pools) = %q; want %q", got, want)
	}
}

func TestReportJSON(t *testing.T) {
	rep := buildReport("1234", nil, []apiv1.Pool{pool("http", 3, 0)}, 0)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"rates":null`, `"p50Seconds":0.00002`, `"intervalSeconds":0`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("json.Marshal(report) = %s; want %s in it", b, w)
		}
	}
	empty, _ := json.Marshal(buildReport("x", nil, nil, 0))
	if !strings.Contains(string(empty), `"pools":[]`) {
		t.Errorf("json.Marshal(empty report) = %s; want \"pools\":[]", empty)
	}
}

// FuzzPercentiles feeds arbitrary histograms, as an agent could send them,
// to the percentile estimate: it must never panic, and a percentile found
// must be one of the histogram's bounds.
func FuzzPercentiles(f *testing.F) {
	f.Add([]byte(`{"bounds":[1000,2000,4000],"counts":[0,2,53,86],"count":141,"sum":15097998}`))
	f.Add([]byte(`{"bounds":[1000,2000,4000,8000,16000,32000],"counts":[0,0,0,0,178,28,8],"count":214,"sum":3859406}`))
	f.Add([]byte(`{"bounds":[],"counts":[5]}`))
	f.Add([]byte(`{"bounds":[-5,3],"counts":[1,1,1,1,1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h apiv1.Histogram
		if json.Unmarshal(data, &h) != nil {
			return
		}
		p := percentiles(h)
		_ = p.text()
		if p.Count == 0 {
			return
		}
		for _, v := range []float64{p.P50, p.P99} {
			if v != 0 && !slices.ContainsFunc(h.Bounds, func(b time.Duration) bool { return b.Seconds() == v }) {
				t.Errorf("percentiles(%s) = %+v; %v is not a bound", data, p, v)
			}
		}
	})
}
