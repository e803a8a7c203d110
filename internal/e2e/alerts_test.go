package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
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
// alert may fire, at any evaluation (Prometheus's own ALERTS series over
// the whole healthy phase is checked, not only the moments the test
// polls); after its leak incident is switched on, GdiagGoroutineLeak must
// go firing.
//
// The healthy phase must hold on a busy 2-core machine. No rule fires on
// one stretched pause or one slow sample (alerts/RUNBOOK.md), but scaled
// to seconds a rule's for: is as short as a neighbour's burst of work, and
// a demo starved of CPU for 10s really has a run-queue backlog and
// saturated pools, which the rules then rightly report. So the demo and
// Prometheus run at a higher scheduling priority than other work (when the
// test may raise it, as root): the host's load then cannot decide the
// test. The test logs how long each alert stayed pending against its
// for:, to show the margin. Checked with two busy loops beside it.
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
	prom := promStartServerScrape(t, bin, demo.Addr(), rules, alertsScrape)
	alertsPrioritize(t, demo.PID(), prom.PID())
	alertsCheckLoaded(t, prom)
	healthyFrom := time.Now()

	// Healthy: wait until the longest window (30s, the leak rule's offset)
	// holds data, then keep watching for as long as the longest for: (15s)
	// and some more. Nothing may fire meanwhile.
	const oldest = `gdiag_sched_goroutines{state="total"} offset 30s`
	promPollValue(t, prom, oldest, time.Now().Add(60*time.Second), func(float64) bool { return true })
	watchUntil := time.Now().Add(20 * time.Second)
	for time.Now().Before(watchUntil) {
		if names := alertsFiring(t, prom, `ALERTS{alertstate="firing"}`); len(names) > 0 {
			t.Fatalf("healthy demo: alerts firing: %s", strings.Join(names, ", "))
		}
		time.Sleep(time.Second)
	}
	// Every evaluation since the rules were loaded, not only those polled.
	window := time.Since(healthyFrom).Round(time.Second) + time.Second
	if names := alertsFiring(t, prom, fmt.Sprintf(`max_over_time(ALERTS{alertstate="firing"}[%ds])`, int(window.Seconds()))); len(names) > 0 {
		t.Fatalf("healthy demo: alerts fired during the %v healthy phase: %s", window, strings.Join(names, ", "))
	}
	// How close the healthy demo came: the longest each alert stayed
	// active (pending) against its for:, as Prometheus recorded it.
	for _, a := range alertsActive(t, prom, window) {
		t.Logf("healthy demo: %s was pending for up to %.1fs (scaled for: %s)", a.name, a.value, alertsFor(t, rules, a.alertname))
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
	t.Logf("goroutine growth over the last 30s: %g; alerts firing: %s", v, strings.Join(alertsFiring(t, prom, `ALERTS{alertstate="firing"}`), ", "))
}

// alertsScrape is the scrape interval: a prime number of milliseconds just
// under a second, so that no periodic activity of the demo (its load ticks
// every 20ms, its batch jobs every 100ms) is sampled at the same point of
// its cycle at every scrape, which would make an instant gauge such as the
// busy workers or the runnable goroutines read the same extreme value again
// and again. Ranges of the scaled rules (2s at least) still hold two
// samples.
const alertsScrape = "973ms"

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

// alertsFiring returns the alerts in the result of query, an instant query
// over Prometheus's ALERTS series, by name and their pool and kind labels.
func alertsFiring(t *testing.T, s promServer, query string) []string {
	t.Helper()
	var names []string
	for _, a := range alertsQuery(t, s, query) {
		names = append(names, a.name)
	}
	return names
}

// alertResult is one series of an instant query over alert series.
type alertResult struct {
	name, alertname string // name: the alert name with its pool and kind labels
	value           float64
}

// alertsQuery runs an instant query whose series carry alert labels, and
// returns them sorted by name.
func alertsQuery(t *testing.T, s promServer, query string) []alertResult {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	promGetJSON(t, s.url+"/api/v1/query?query="+url.QueryEscape(query), &r)
	if r.Status != "success" {
		t.Fatalf("query %s: status %s", query, r.Status)
	}
	out := make([]alertResult, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		m := res.Metric
		v, _ := res.Value[1].(string)
		f, _ := strconv.ParseFloat(v, 64)
		out = append(out, alertResult{
			name:      fmt.Sprintf("%s{pool=%q,kind=%q}", m["alertname"], m["pool"], m["kind"]),
			alertname: m["alertname"],
			value:     f,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// alertsActive returns, for every alert that was pending or firing in the
// last window, the longest time in seconds it stayed active, from
// Prometheus's ALERTS_FOR_STATE series (whose value is the time the alert
// went active).
func alertsActive(t *testing.T, s promServer, window time.Duration) []alertResult {
	t.Helper()
	return alertsQuery(t, s, fmt.Sprintf(`max_over_time((timestamp(ALERTS_FOR_STATE) - ALERTS_FOR_STATE)[%ds:1s])`, int(window.Seconds())))
}

// alertsFor returns the for: of the named alert in rules, or "none".
func alertsFor(t *testing.T, rules []byte, alert string) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(rules), "- alert: "+alert+"\n")
	if !ok {
		return "none"
	}
	if next := strings.Index(rest, "- alert: "); next >= 0 {
		rest = rest[:next]
	}
	for _, line := range strings.Split(rest, "\n") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "for: "); ok {
			return f
		}
	}
	return "none"
}

// alertsNice is the nice value the demo and Prometheus run at: ahead of
// ordinary work (0), such as other tests or a CPU hog.
const alertsNice = -10

// alertsPrioritize sets every thread of the given processes to alertsNice.
// Linux keeps a nice value per thread, and a new thread inherits its
// creator's, so two passes over /proc/<pid>/task cover the threads that
// exist and those they start. Without the privilege (not root) it logs
// that the host's load may show in the healthy phase and goes on.
func alertsPrioritize(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		for range 2 {
			tids, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			if err != nil {
				t.Fatalf("threads of %d: %v", pid, err)
			}
			for _, d := range tids {
				tid, err := strconv.Atoi(d.Name())
				if err != nil {
					continue
				}
				err = syscall.Setpriority(syscall.PRIO_PROCESS, tid, alertsNice)
				if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
					t.Logf("cannot raise the priority of the demo and Prometheus (%v): the healthy phase may see the host's load", err)
					return
				}
				if err != nil && !errors.Is(err, syscall.ESRCH) { // ESRCH: the thread has ended
					t.Fatalf("setpriority(%d): %v", tid, err)
				}
			}
		}
	}
}
