package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"

	"github.com/gdiag/gdiag/alerts"
)

// alertsScale divides every duration of the rules: their minutes become
// seconds (alerts.Scale), so that a 30-minute leak window is 30 s here and
// every range still spans at least two of the 1 s scrapes.
const alertsScale = 60

// TestAlertsFireOnLeak loads the alert rules, scaled by alertsScale, into a
// real Prometheus scraping the demo service. While the demo is healthy no
// alert may fire; after its leak incident is switched on, GdiagGoroutineLeak
// must go firing in Prometheus's own ALERTS series.
func TestAlertsFireOnLeak(t *testing.T) {
	e2etest.RequireE2E(t, "run the alert rules in Prometheus against the demo service")
	bin := promBinary(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	rules, err := alerts.Scale(alerts.Rules(), alertsScale)
	if err != nil {
		t.Fatal(err)
	}
	// Without -race: the test judges the healthy demo by its timing.
	demo := e2etest.StartDemoBuiltWithT(t, e2etest.Plain, nil, "-load", "50")
	prom := promStartServer(t, bin, demo.Addr(), rules)
	alertsCheckLoaded(t, prom)

	// Healthy: wait until the longest window (30s, the leak rule's offset)
	// holds data, then keep watching for as long as the longest for: (15s)
	// and some more. Nothing may fire meanwhile.
	const oldest = `gdiag_sched_goroutines{state="total"} offset 30s`
	promPollValue(t, prom, oldest, time.Now().Add(60*time.Second), func(float64) bool { return true })
	watchUntil := time.Now().Add(20 * time.Second)
	for time.Now().Before(watchUntil) {
		if names := alertsFiring(t, prom); len(names) > 0 {
			t.Fatalf("healthy demo: alerts firing: %s", strings.Join(names, ", "))
		}
		time.Sleep(time.Second)
	}

	// The leak: 50 goroutines a second that never end.
	resp, err := http.PostForm(demo.URL+"/incident?name=leak", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /incident?name=leak: %s", resp.Status)
	}
	start := time.Now()
	const leak = `ALERTS{alertname="GdiagGoroutineLeak",alertstate="firing",severity="warning"}`
	promPollValue(t, prom, leak, start.Add(90*time.Second), func(v float64) bool { return v == 1 })
	t.Logf("GdiagGoroutineLeak firing %v after the leak started", time.Since(start).Round(time.Second))
	v, _, err := promQuery(prom.url, `delta(gdiag_sched_goroutines{state="total"}[30s])`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("goroutine growth over the last 30s: %g; alerts firing: %s", v, strings.Join(alertsFiring(t, prom), ", "))
}

// alertsCheckLoaded checks through /api/v1/rules that Prometheus loaded
// every alert of the file.
func alertsCheckLoaded(t *testing.T, s promServer) {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Type      string `json:"type"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	promGetJSON(t, s.url+"/api/v1/rules", &r)
	want := strings.Count(string(alerts.Rules()), "- alert: ")
	got := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			if rule.Type == "alerting" {
				got++
			}
			if rule.LastError != "" {
				t.Errorf("rule %s: health %s, error %s", rule.Name, rule.Health, rule.LastError)
			}
		}
	}
	if got != want {
		t.Fatalf("Prometheus loaded %d alerting rules; want %d", got, want)
	}
}

// alertsFiring returns the names of the alerts firing now, by Prometheus's
// ALERTS series.
func alertsFiring(t *testing.T, s promServer) []string {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	promGetJSON(t, s.url+"/api/v1/query?query="+url.QueryEscape(`ALERTS{alertstate="firing"}`), &r)
	if r.Status != "success" {
		t.Fatalf("query ALERTS: status %s", r.Status)
	}
	var names []string
	for _, res := range r.Data.Result {
		m := res.Metric
		names = append(names, fmt.Sprintf("%s{pool=%q,kind=%q}", m["alertname"], m["pool"], m["kind"]))
	}
	sort.Strings(names)
	return names
}
