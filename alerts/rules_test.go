package alerts_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/gdiag/gdiag/alerts"
)

const (
	rulesFile   = "gdiag.rules.yml"
	testsFile   = "gdiag.rules_test.yml"
	runbookFile = "RUNBOOK.md"
	runbookBase = "https://github.com/gdiag/gdiag/blob/main/alerts/RUNBOOK.md#"
)

// ruleFile is the part of a Prometheus rules file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// unitTests is the part of a promtool unit-test file the tests read.
type unitTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal(alerts.Rules(), &f); err != nil {
		t.Fatalf("parse %s: %v", rulesFile, err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return out
}

// promtool returns promtool's path. Without it the test fails when
// GDIAG_E2E=1 (the tools are meant to be installed) and skips otherwise.
func promtool(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/promtool", filepath.Join(os.Getenv("GDIAG_TOOLS"), "promtool")} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Getenv("GDIAG_E2E") == "1" {
		t.Fatal("promtool not found in /usr/bin, GDIAG_TOOLS or PATH; run scripts/install-prometheus")
	}
	t.Skip("promtool not found; run scripts/install-prometheus, or set GDIAG_E2E=1 to make this a failure")
	return ""
}

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	out := runPromtool(t, "check", "rules", rulesFile)
	n := len(loadRules(t))
	if want := "SUCCESS: " + strconv.Itoa(n) + " rules found"; !strings.Contains(out, want) {
		t.Errorf("promtool check rules: output lacks %q:\n%s", want, out)
	}
	// The copy the end-to-end test loads must be valid too.
	scaled, err := alerts.Scale(alerts.Rules(), 60)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "scaled.rules.yml")
	if err := os.WriteFile(p, scaled, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", p)
}

func TestPromtoolTestRules(t *testing.T) {
	out := runPromtool(t, "test", "rules", testsFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: no SUCCESS in output:\n%s", out)
	}
}

// TestRulesAnnotated checks that every alert has a severity, a summary and a
// description quoting the measured value, and a runbook_url whose anchor is
// a heading of RUNBOOK.md.
func TestRulesAnnotated(t *testing.T) {
	anchors := runbookAnchors(t)
	seen := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			t.Errorf("recording rule %q: the file is meant to hold alerts only", r.Record)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("alert %s defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity = %q; want warning or critical", r.Alert, s)
		}
		for _, k := range []string{"summary", "description"} {
			a := r.Annotations[k]
			if !strings.Contains(a, "$value") {
				t.Errorf("%s: %s = %q; want it to quote {{ $value }}", r.Alert, k, a)
			}
			if !strings.Contains(a, "$labels.instance") {
				t.Errorf("%s: %s = %q; want it to name {{ $labels.instance }}", r.Alert, k, a)
			}
		}
		u := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(u, runbookBase)
		if !ok {
			t.Errorf("%s: runbook_url = %q; want prefix %s", r.Alert, u, runbookBase)
			continue
		}
		if anchor != strings.ToLower(r.Alert) {
			t.Errorf("%s: runbook anchor = %q; want %q", r.Alert, anchor, strings.ToLower(r.Alert))
		}
		if !anchors[anchor] {
			t.Errorf("%s: anchor #%s is not a heading of %s", r.Alert, anchor, runbookFile)
		}
	}
}

// TestRunbookNamesCommands checks that each alert's runbook section names a
// gdiag command to run first.
func TestRunbookNamesCommands(t *testing.T) {
	sections := runbookSections(t)
	cmd := regexp.MustCompile("\\*\\*First command:\\*\\* `gdiag (doctor|goroutines --diff|sched|profile cpu|pools|trace) ")
	for _, r := range loadRules(t) {
		body, ok := sections[strings.ToLower(r.Alert)]
		if !ok {
			continue // reported by TestRulesAnnotated
		}
		if !cmd.MatchString(body) {
			t.Errorf("runbook section %s names no gdiag command under **First command:**", r.Alert)
		}
	}
}

// runbookSections maps the GitHub anchor of each "## " heading of the
// runbook to the text under it.
func runbookSections(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			cur = githubAnchor(h)
			out[cur] = ""
			continue
		}
		if cur != "" {
			out[cur] += line + "\n"
		}
	}
	return out
}

func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for a := range runbookSections(t) {
		out[a] = true
	}
	return out
}

// githubAnchor is the fragment GitHub gives a heading: lower case, spaces
// to hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestEveryAlertTestedBothWays checks that the promtool unit tests expect
// each alert to fire at least once and not to fire at least once, and name
// no alert the rules lack.
func TestEveryAlertTestedBothWays(t *testing.T) {
	b, err := os.ReadFile(testsFile)
	if err != nil {
		t.Fatal(err)
	}
	var ut unitTests
	if err := yaml.Unmarshal(b, &ut); err != nil {
		t.Fatalf("parse %s: %v", testsFile, err)
	}
	if len(ut.RuleFiles) != 1 || ut.RuleFiles[0] != rulesFile {
		t.Errorf("%s: rule_files = %q; want [%s]", testsFile, ut.RuleFiles, rulesFile)
	}
	firing, quiet := map[string]int{}, map[string]int{}
	for _, tc := range ut.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				quiet[a.Alertname]++
				continue
			}
			firing[a.Alertname]++
			for _, e := range a.ExpAlerts {
				if len(e.ExpAnnotations) == 0 {
					t.Errorf("%s at %s: expected alert without exp_annotations; the figures go untested", a.Alertname, a.EvalTime)
				}
			}
		}
	}
	names := map[string]bool{}
	for _, r := range loadRules(t) {
		names[r.Alert] = true
		if firing[r.Alert] == 0 {
			t.Errorf("%s: no unit test expects it to fire", r.Alert)
		}
		if quiet[r.Alert] == 0 {
			t.Errorf("%s: no unit test expects it not to fire", r.Alert)
		}
	}
	for n := range firing {
		if !names[n] {
			t.Errorf("%s tests alert %s, which %s lacks", testsFile, n, rulesFile)
		}
	}
	for n := range quiet {
		if !names[n] {
			t.Errorf("%s tests alert %s, which %s lacks", testsFile, n, rulesFile)
		}
	}
}

// promRange matches the range of a range vector or subquery: [5m], [30m:1m].
var promRange = regexp.MustCompile(`\[([0-9]+[smhdwy]+)(?::[0-9smhdwy]*)?\]`)

// countThreshold matches an increase() compared with a count of two or more.
var countThreshold = regexp.MustCompile(`increase\([^)]*\)\s*>=\s*([2-9]|[1-9][0-9]+)\s*$`)

// TestRulesNotOnOneSample checks the shape that keeps each rule from
// firing on a blip: a for: longer than at least one range its expression
// averages over (a spike that fills that range once cannot hold the
// condition for the whole for:), or a for: over instant gauges, or a count
// of at least two events; and a "Not on a blip" reason in the rule's
// runbook section. The promtool tests show each blip not firing.
func TestRulesNotOnOneSample(t *testing.T) {
	sections := runbookSections(t)
	for _, r := range loadRules(t) {
		if !strings.Contains(sections[strings.ToLower(r.Alert)], "**Not on a blip:**") {
			t.Errorf("runbook section %s gives no **Not on a blip:** reason", r.Alert)
		}
		if r.For == "" {
			if !countThreshold.MatchString(strings.TrimSpace(r.Expr)) {
				t.Errorf("%s has no for: and no count of two or more events: one sample can fire it", r.Alert)
			}
			continue
		}
		forDur, err := model.ParseDuration(r.For)
		if err != nil {
			t.Errorf("%s: for: %q: %v", r.Alert, r.For, err)
			continue
		}
		ranges := promRange.FindAllStringSubmatch(r.Expr, -1)
		if len(ranges) == 0 {
			continue // instant gauges: the for: alone spans several samples
		}
		shortest := time.Duration(math.MaxInt64)
		for _, m := range ranges {
			d, err := model.ParseDuration(m[1])
			if err != nil {
				t.Fatalf("%s: range %s: %v", r.Alert, m[0], err)
			}
			shortest = min(shortest, time.Duration(d))
		}
		if time.Duration(forDur) <= shortest {
			t.Errorf("%s: for: %s is not longer than its shortest range %s: a spike that fills the range once can fire it", r.Alert, r.For, shortest)
		}
	}
}
