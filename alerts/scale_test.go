package alerts_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/alerts"
)

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		factor         int
	}{
		{"for", "        for: 15m\n", "        for: 15s\n", 60},
		{"quoted for with comment", "  for: '10m' # ten\n", "  for: '10s' # ten\n", 60},
		{"keep_firing_for", "  keep_firing_for: 1h\n", "  keep_firing_for: 60s\n", 60},
		{"range", "rate(x[5m]) > 0", "rate(x[5s]) > 0", 60},
		{"compound range", "delta(x[1h30m])", "delta(x[90s])", 60},
		{"subquery", "max_over_time(rate(x[5m])[30m:1m])", "max_over_time(rate(x[5s])[30s:1s])", 60},
		{"subquery default step", "max_over_time(rate(x[5m])[30m:])", "max_over_time(rate(x[5s])[30s:])", 60},
		{"offset", "x offset 30m", "x offset 30s", 60},
		{"negative offset", "x offset -2m", "x offset -2s", 60},
		{"milliseconds", "rate(x[1m])", "rate(x[8571ms])", 7},
		{"factor one keeps the value", "rate(x[5m])", "rate(x[300s])", 1},
		{"labels and thresholds untouched", `x{le="0.05",d="5m"} > 0.5 and y > 30`, `x{le="0.05",d="5m"} > 0.5 and y > 30`, 60},
		{"text untouched", "summary: over the last 5 minutes, for 10m", "summary: over the last 5 minutes, for 10m", 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := alerts.Scale([]byte(tc.in), tc.factor)
			if err != nil {
				t.Fatalf("Scale(%q, %d): %v", tc.in, tc.factor, err)
			}
			if string(got) != tc.want {
				t.Errorf("Scale(%q, %d) = %q; want %q", tc.in, tc.factor, got, tc.want)
			}
		})
	}
}

func TestScaleErrors(t *testing.T) {
	for _, tc := range []struct {
		in     string
		factor int
		want   error
	}{
		{"rate(x[5m])", 0, alerts.ErrBadFactor},
		{"rate(x[5m])", -60, alerts.ErrBadFactor},
		{"rate(x[1ms])", 2, alerts.ErrTooShort},
		{"  for: 1s\n", 2000, alerts.ErrTooShort},
	} {
		got, err := alerts.Scale([]byte(tc.in), tc.factor)
		if !errors.Is(err, tc.want) {
			t.Errorf("Scale(%q, %d) = %q, %v; want error %v", tc.in, tc.factor, got, err, tc.want)
		}
	}
}

var (
	anyRange = regexp.MustCompile(`\[([0-9a-z]+)(?::([0-9a-z]*))?\]`)
	anyFor   = regexp.MustCompile(`(?m)^\s*for:\s*(\S+)`)
)

// TestScaledRulesKeepTwoSamples checks what the end-to-end test relies on:
// Scale(Rules(), 60) changes every range and for: of the rules, and leaves
// each range at least 2s, twice a 1s scrape interval, so that each holds two
// samples under Prometheus 2.x and 3.x alike.
func TestScaledRulesKeepTwoSamples(t *testing.T) {
	orig := alerts.Rules()
	scaled, err := alerts.Scale(orig, 60)
	if err != nil {
		t.Fatal(err)
	}
	ranges, fors := anyRange.FindAllSubmatch(scaled, -1), anyFor.FindAllSubmatch(scaled, -1)
	if len(ranges) == 0 || len(fors) == 0 {
		t.Fatalf("scaled rules have %d ranges and %d for: fields; want some of each", len(ranges), len(fors))
	}
	if n := len(anyRange.FindAll(orig, -1)); n != len(ranges) {
		t.Errorf("scaled rules have %d ranges; the original %d", len(ranges), n)
	}
	for _, m := range ranges {
		d, err := time.ParseDuration(string(m[1]))
		if err != nil {
			t.Errorf("scaled range %s: %v", m[0], err)
		} else if d < 2*time.Second {
			t.Errorf("scaled range %s is shorter than 2s", m[0])
		}
	}
	for _, m := range fors {
		if d, err := time.ParseDuration(string(m[1])); err != nil || d > time.Minute {
			t.Errorf("scaled for: %s = %v, %v; want seconds", m[1], d, err)
		}
	}
	if bytes.Contains(scaled, []byte("m]")) || strings.Contains(string(scaled), "offset 30m") {
		t.Errorf("scaled rules still hold a range or offset in minutes")
	}
}

// FuzzScale checks that Scale never panics and that its output is stable:
// scaling it again by 1 changes nothing.
func FuzzScale(f *testing.F) {
	f.Add(alerts.Rules(), 60)
	f.Add([]byte("for: 1h30m\nexpr: rate(x[5m])[30m:1m] offset -1d"), 7)
	f.Add([]byte("[0s] offset 0ms for: 99999999999999999999y"), 1)
	f.Fuzz(func(t *testing.T, in []byte, factor int) {
		out, err := alerts.Scale(in, factor)
		if err != nil {
			return
		}
		again, err := alerts.Scale(out, 1)
		if err != nil {
			t.Fatalf("Scale(Scale(%q, %d), 1): %v", in, factor, err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("Scale(%q, %d) = %q, which Scale(·, 1) changes to %q", in, factor, out, again)
		}
	})
}
