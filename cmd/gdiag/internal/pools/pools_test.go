package pools

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

const us = time.Microsecond

func hist(bounds []time.Duration, counts ...uint64) apiv1.Histogram {
	return apiv1.Histogram{Bounds: bounds, Counts: counts}
}

func TestQuantile(t *testing.T) {
	b := []time.Duration{10 * us, 20 * us, 40 * us}
	cases := []struct {
		name string
		h    apiv1.Histogram
		q    float64
		want Percentile
		ok   bool
	}{
		{"empty", hist(b, 0, 0, 0, 0), 0.5, Percentile{}, false},
		{"no counts", hist(b), 0.5, Percentile{}, false},
		{"first bucket from zero", hist(b, 4, 0, 0, 0), 0.5, Percentile{Value: 5 * us}, true},
		{"interpolated", hist(b, 0, 0, 10, 0), 0.5, Percentile{Value: 30 * us}, true},
		{"whole bucket", hist(b, 0, 10, 0, 0), 1, Percentile{Value: 20 * us}, true},
		{"p99 in overflow", hist(b, 90, 0, 0, 10), 0.99, Percentile{Value: 40 * us, Over: true}, true},
		{"p50 below overflow", hist(b, 90, 0, 0, 10), 0.5, Percentile{Value: 10 * us * 50 / 90}, true},
		{"q clamped", hist(b, 0, 2, 0, 0), 7, Percentile{Value: 20 * us}, true},
		{"extra counts are overflow", hist(b[:1], 0, 0, 5), 0.5, Percentile{Value: 10 * us, Over: true}, true},
		{"no bounds", hist(nil, 3), 0.5, Percentile{Over: true}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := quantile(c.h, c.q)
			if got != c.want || ok != c.ok {
				t.Errorf("quantile(%v, %v) = %v, %v; want %v, %v", c.h, c.q, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestPercentileString(t *testing.T) {
	cases := []struct {
		p    Percentile
		want string
	}{
		{Percentile{Value: 999}, "999ns"},
		{Percentile{Value: 12345 * time.Nanosecond}, "12.3µs"},
		{Percentile{Value: 1234567 * time.Microsecond}, "1.23s"},
		{Percentile{Value: 134217728 * time.Nanosecond, Over: true}, ">134ms"},
	}
	for _, c := range cases {
		if got := c.p.String(); got != c.want {
			t.Errorf("%#v.String() = %q; want %q", c.p, got, c.want)
		}
	}
}

func pool(name string, submitted, rejected uint64) apiv1.Pool {
	return apiv1.Pool{
		Name: name, MaxWorkers: 8, Workers: 3, Running: 1, Idle: 2, Queued: 4, QueueCapacity: 64,
		Submitted: submitted, Completed: submitted - 5, Rejected: rejected,
		QueueWait: hist([]time.Duration{10 * us, 20 * us}, 0, 10, 0),
		RunTime:   hist([]time.Duration{10 * us, 20 * us}, 0, 0, 10),
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
	wantWait := Percentiles{Count: 10, P50: 15e-6, P99: 19.9e-6}
	if d := http.QueueWait.P99 - wantWait.P99; http.QueueWait.Count != 10 || http.QueueWait.P50 != wantWait.P50 || d > 1e-12 || d < -1e-12 {
		t.Errorf("http queueWait = %+v; want %+v", http.QueueWait, wantWait)
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
	want := []string{"http", "1/2/8", "4/64", "300", "295", "0", "0", "0", "50", "100", "25.0", "15µs/19.9µs", ">20µs/>20µs"}
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
	for _, w := range []string{`"rates":null`, `"p50Seconds":0.000015`, `"intervalSeconds":0`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("json.Marshal(report) = %s; want %s in it", b, w)
		}
	}
	empty, _ := json.Marshal(buildReport("x", nil, nil, 0))
	if !strings.Contains(string(empty), `"pools":[]`) {
		t.Errorf("json.Marshal(empty report) = %s; want \"pools\":[]", empty)
	}
}

// FuzzQuantile feeds arbitrary histograms, as an agent could send them,
// to the percentile estimate: it must never panic, and a value found must
// lie within the histogram's bounds.
func FuzzQuantile(f *testing.F) {
	f.Add([]byte(`{"bounds":[1000,2000,4000],"counts":[0,2,53,86],"count":141,"sum":15097998}`), 0.99)
	f.Add([]byte(`{"bounds":[1000,2000,4000,8000,16000,32000],"counts":[0,0,0,0,178,28,8],"count":214,"sum":3859406}`), 0.5)
	f.Add([]byte(`{"bounds":[],"counts":[5]}`), 0.5)
	f.Add([]byte(`{"bounds":[-5,3],"counts":[1,1,1,1,1]}`), 1.0)
	f.Fuzz(func(t *testing.T, data []byte, q float64) {
		var h apiv1.Histogram
		if json.Unmarshal(data, &h) != nil {
			return
		}
		p, ok := quantile(h, q)
		if !ok {
			return
		}
		_ = p.String()
		_ = percentiles(h).text()
	})
}
