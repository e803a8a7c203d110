package prometheus_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/schedstats"
)

// TestSchedHistogramChangesShow changes each scheduler histogram in turn
// and checks that the next scrape shows it as a new collector would, and
// that what an earlier Gather returned stays as it was: the collector sends
// a histogram's series again only while its numbers are the same.
func TestSchedHistogramChangesShow(t *testing.T) {
	for name, h := range map[string]func(*schedstats.Snapshot) *schedstats.Histogram{
		"latency":        func(s *schedstats.Snapshot) *schedstats.Histogram { return &s.SchedLatency },
		"gc pauses":      func(s *schedstats.Snapshot) *schedstats.Histogram { return &s.GCPauses },
		"other pauses":   func(s *schedstats.Snapshot) *schedstats.Histogram { return &s.OtherPauses },
		"gc stopping":    func(s *schedstats.Snapshot) *schedstats.Histogram { return &s.GCStopping },
		"other stopping": func(s *schedstats.Snapshot) *schedstats.Histogram { return &s.OtherStopping },
	} {
		for change, at := range map[string]int{"a low bucket": 90, "the last bucket": -1} {
			t.Run(name+"/"+change, func(t *testing.T) {
				snap := fullSnapshot()
				read := func(dst *schedstats.Snapshot) { snap.CopyInto(dst) }
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(gdiagprom.NewSchedCollector(read))
				first := gather(t, reg)
				want := encode(t, first)
				if again := encode(t, gather(t, reg)); !bytes.Equal(again, want) {
					t.Fatalf("two scrapes of the same snapshot differ:\n%s", lineDiff(string(want), string(again)))
				}
				counts := h(&snap).Counts
				if at < 0 {
					at = len(counts) - 1
				}
				counts[at]++
				got := encode(t, gather(t, reg))
				if bytes.Equal(got, want) {
					t.Fatalf("changing the %s histogram did not change the scrape", name)
				}
				fresh := prometheus.NewPedanticRegistry()
				fresh.MustRegister(gdiagprom.NewSchedCollector(read))
				if w := encode(t, gather(t, fresh)); !bytes.Equal(got, w) {
					t.Errorf("after changing %s, the scrape differs from a new collector's:\n%s", name, lineDiff(string(w), string(got)))
				}
				if again := encode(t, first); !bytes.Equal(again, want) {
					t.Errorf("a later scrape changed what the first Gather returned:\n%s", lineDiff(string(want), string(again)))
				}
			})
		}
	}
}
