package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"
)

// IgnoreCurrent: go-zero's stat package starts its CPU refresher when it
// loads.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

// TestScenario runs a shortened scenario (a fifth of each phase) through
// every contender and checks what the full run shows: under overload the
// gdiag pool with its controls serves more requests in time than the plain
// pool, at a lower p99, and every contender's figures add up.
func TestScenario(t *testing.T) {
	ph := scenario(0.2)
	reqs := arrivals(ph, 1)
	res := map[string]result{}
	var order []result
	for _, c := range contenders() {
		var recs []record
		synctest.Test(t, func(t *testing.T) { recs = run(c, ph, reqs, 0.005, false) })
		if len(recs) != len(reqs) {
			t.Fatalf("%s: %d records for %d requests", c.name, len(recs), len(reqs))
		}
		r := summarize(c, ph, recs)
		res[c.name] = r
		order = append(order, r)
		for i, f := range r.Phases {
			if f.Refused+f.Failed > 1 || f.Goodput < 0 || f.P50 > f.P99 || f.P99 > deadline {
				t.Errorf("%s, %s: %+v; want shares that add up to at most 1 and p50 <= p99 <= deadline", c.name, ph[i].Name, f)
			}
		}
	}
	plain, all := res["gdiag plain"].Phases[1], res["gdiag all"].Phases[1]
	if all.Goodput < 2*plain.Goodput || all.P99 >= plain.P99 {
		t.Errorf("overload: gdiag all %+v, gdiag plain %+v; want the controls to at least double the goodput at a lower p99", all, plain)
	}
	var out bytes.Buffer
	table(&out, ph, order)
	for _, want := range []string{"**overload 2x**", "| gdiag all |", "| failsafe limiter |", "**time to recover**"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
