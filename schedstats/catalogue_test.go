package schedstats_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

var update = flag.Bool("update", false, "rewrite the catalogue in doc.go")

// catalogueDoc renders the catalogue as doc.go lists it.
func catalogueDoc() string {
	var b strings.Builder
	for _, m := range schedstats.Catalogue() {
		name := m.Name
		if len(m.Labels) > 0 {
			name += "{" + strings.Join(m.Labels, ",") + "}"
		}
		fmt.Fprintf(&b, "//\t%s %s %s\n//\t\t%s\n", name, m.Type, m.Unit, m.Help)
	}
	return b.String()
}

// TestDocCatalogue checks that doc.go lists exactly the catalogue, in order.
func TestDocCatalogue(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	const head = "// # Catalogue of metrics\n"
	start := bytes.Index(src, []byte(head))
	if start < 0 {
		t.Fatal("doc.go has no catalogue heading")
	}
	// The table is the first run of indented comment lines after the heading.
	tStart := bytes.Index(src[start:], []byte("\n//\t"))
	if tStart < 0 {
		t.Fatal("doc.go has no catalogue table")
	}
	tStart += start + 1
	tEnd := tStart
	for tEnd < len(src) && bytes.HasPrefix(src[tEnd:], []byte("//\t")) {
		tEnd += bytes.IndexByte(src[tEnd:], '\n') + 1
	}
	want := catalogueDoc()
	if got := string(src[tStart:tEnd]); got != want {
		if *update {
			out := append(append(append([]byte{}, src[:tStart]...), want...), src[tEnd:]...)
			if err := os.WriteFile("doc.go", out, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("doc.go catalogue is stale; run go test -run TestDocCatalogue -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}

var (
	nameRE  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// TestCatalogueConventions checks the Prometheus naming rules for every entry.
func TestCatalogueConventions(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range schedstats.Catalogue() {
		if seen[m.Name] {
			t.Errorf("%s: listed twice", m.Name)
		}
		seen[m.Name] = true
		if !nameRE.MatchString(m.Name) || !strings.HasPrefix(m.Name, "gdiag_") {
			t.Errorf("%s: not a valid gdiag_ metric name", m.Name)
		}
		if isCounter := m.Type == schedstats.TypeCounter; isCounter != strings.HasSuffix(m.Name, "_total") {
			t.Errorf("%s: type %v; want _total iff counter", m.Name, m.Type)
		}
		if m.Type == schedstats.TypeHistogram && strings.HasSuffix(m.Name, "_total") {
			t.Errorf("%s: histogram named like a counter", m.Name)
		}
		timed := strings.Contains(m.Name, "_seconds")
		if timed != (m.Unit == "seconds") {
			t.Errorf("%s: unit %q; want seconds iff the name says _seconds", m.Name, m.Unit)
		}
		if timed && !strings.HasSuffix(strings.TrimSuffix(m.Name, "_total"), "_seconds") {
			t.Errorf("%s: _seconds must be the unit suffix", m.Name)
		}
		if m.Help == "" || !strings.HasSuffix(m.Help, ".") {
			t.Errorf("%s: help %q; want a sentence", m.Name, m.Help)
		}
		for _, l := range m.Labels {
			if !labelRE.MatchString(l) || strings.HasPrefix(l, "__") || l == "le" || l == "quantile" {
				t.Errorf("%s: invalid label name %q", m.Name, l)
			}
		}
		if strings.HasPrefix(m.Name, "gdiag_pool_") && (len(m.Labels) == 0 || m.Labels[0] != "pool") {
			t.Errorf("%s: labels %v; want pool first", m.Name, m.Labels)
		}
	}
	// Names that exporters, dashboards and alert rules depend on.
	for _, n := range []string{
		"gdiag_sched_gomaxprocs", "gdiag_sched_idle_procs", "gdiag_sched_threads",
		"gdiag_sched_threads_idle", "gdiag_sched_threads_spinning", "gdiag_sched_threads_created_total",
		"gdiag_sched_global_runqueue", "gdiag_sched_local_runqueue", "gdiag_sched_goroutines",
		"gdiag_sched_goroutines_system", "gdiag_sched_goroutines_created_total",
		"gdiag_sched_latency_seconds", "gdiag_sched_pause_seconds", "gdiag_sync_mutex_wait_seconds_total",
		"gdiag_pool_workers", "gdiag_pool_workers_running", "gdiag_pool_workers_idle", "gdiag_pool_queued",
		"gdiag_pool_queue_capacity", "gdiag_pool_max_workers", "gdiag_pool_tasks_submitted_total",
		"gdiag_pool_tasks_total", "gdiag_pool_tasks_rejected_total", "gdiag_pool_queue_wait_seconds",
		"gdiag_pool_run_seconds", "gdiag_pool_key_running",
	} {
		if !seen[n] {
			t.Errorf("catalogue lacks %s", n)
		}
	}
}

func TestLookup(t *testing.T) {
	m, ok := schedstats.Lookup("gdiag_pool_tasks_total")
	if !ok || m.Type != schedstats.TypeCounter || strings.Join(m.Labels, ",") != "pool,outcome" {
		t.Errorf("Lookup(gdiag_pool_tasks_total) = %+v, %v; want a counter labelled pool,outcome", m, ok)
	}
	m.Labels[0] = "changed"
	if again, _ := schedstats.Lookup("gdiag_pool_tasks_total"); again.Labels[0] != "pool" {
		t.Errorf("Lookup result shares its labels with the catalogue")
	}
	if _, ok := schedstats.Lookup("gdiag_nope"); ok {
		t.Errorf("Lookup(gdiag_nope) found something; want false")
	}
}

func TestMetricJSON(t *testing.T) {
	m, _ := schedstats.Lookup("gdiag_sched_pause_seconds")
	b, err := json.Marshal(m)
	want := `{"name":"gdiag_sched_pause_seconds","unit":"seconds","type":"histogram",` +
		`"help":"Stop-the-world pause durations, by cause (gc or other).","labels":["kind"]}`
	if err != nil || string(b) != want {
		t.Errorf("json.Marshal(%s) = %s, %v; want %s", m.Name, b, err, want)
	}
}
