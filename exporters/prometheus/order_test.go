package prometheus_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
)

// unsortedFamilies are the metrics whose series the collectors may send
// out of the registry's order: the registry sorts them. The others arrive
// sorted, so that the registry's sort of them is a single pass.
var unsortedFamilies = map[string]bool{
	"gdiag_pool_key_running":     true, // sorted by key, then pool: keys come pool by pool
	"gdiag_pool_breaker_state":   true, // likewise
	"gdiag_sched_local_runqueue": true, // "10" sorts before "2"
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// TestCollectOrder checks that each metric's series leave the collectors
// in the order the registry sorts them in (by label values, in the order of
// the sorted label names), for pools listed out of name order, with and
// without overload controls.
func TestCollectOrder(t *testing.T) {
	stats := append(withControls(fakeStats("zeta", "alpha", "mid")), fakeStats("beta", "aa")...)
	n := map[string]int{}
	for _, c := range []prometheus.Collector{
		gdiagprom.NewSchedCollector(readFixed(fullSnapshot())),
		gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return stats }, 0),
	} {
		for scrape := range 2 { // the second sends the first's series again
			ch := make(chan prometheus.Metric, 1000)
			c.Collect(ch)
			close(ch)
			last := map[string][]string{}
			for m := range ch {
				name := fqName.FindStringSubmatch(m.Desc().String())[1]
				var dm dto.Metric
				if err := m.Write(&dm); err != nil {
					t.Fatal(err)
				}
				var values []string
				for _, lp := range dm.GetLabel() {
					values = append(values, lp.GetValue())
				}
				n[name]++
				if prev, ok := last[name]; ok && !unsortedFamilies[name] && slices.Compare(prev, values) >= 0 {
					t.Errorf("scrape %d: %s%v sent after %v; want the series of a metric in ascending order of label values", scrape, name, values, prev)
				}
				last[name] = values
			}
		}
	}
	if n["gdiag_pool_tasks_total"] != 2*4*len(stats) || n["gdiag_sched_goroutines"] != 2*5 || n["gdiag_pool_tasks_refused_total"] != 2*(3*7+2*3) {
		t.Errorf("two scrapes: %d task, %d goroutine, %d refusal series; want %d, 10 and %d",
			n["gdiag_pool_tasks_total"], n["gdiag_sched_goroutines"], n["gdiag_pool_tasks_refused_total"], 2*4*len(stats), 2*(3*7+2*3))
	}
}
