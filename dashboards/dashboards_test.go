package dashboards_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/gdiag/gdiag/dashboards"
)

var update = flag.Bool("update", false, "rewrite dashboards/json from the builders")

// TestGolden checks that the committed JSON is what the builders produce;
// with -update it rewrites the files instead.
func TestGolden(t *testing.T) {
	files, err := dashboards.Files()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		for name, b := range files {
			if err := os.WriteFile(filepath.Join("json", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	committed, err := filepath.Glob(filepath.Join("json", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range committed {
		name := filepath.Base(path)
		seen[name] = true
		want, ok := files[name]
		if !ok {
			t.Errorf("%s is committed but no builder produces it; delete it or add the dashboard to All", path)
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the builders produce; run go generate ./dashboards (or go test -update) and commit the result", path)
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("json/%s is missing; run go generate ./dashboards", name)
		}
	}
}

// committedDashboards reads every committed dashboard file.
func committedDashboards(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("json", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("json/*.json = %d files; want 3 (scheduler, pools, runtime)", len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestStrictValidate decodes each committed file with the SDK's strict
// decoder (unknown fields and wrong types fail) and validates it; title and
// UID, which the schema leaves optional, are checked here.
func TestStrictValidate(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, raw := range committedDashboards(t) {
		t.Run(name, func(t *testing.T) {
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(raw); err != nil {
				t.Fatalf("UnmarshalJSONStrict: %v", err)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if d.Title == nil || *d.Title == "" {
				t.Error("title is empty")
			}
			if d.Uid == nil || *d.Uid+".json" != name {
				t.Errorf("uid = %v; want %s", d.Uid, strings.TrimSuffix(name, ".json"))
			}
			if len(d.Panels) < 5 {
				t.Errorf("%d panels; want at least 5", len(d.Panels))
			}
		})
	}
}

// TestStrictDecodeRejects shows that the strict decoder used above can
// fail: a wrong type and an unknown panel field are refused.
func TestStrictDecodeRejects(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw := committedDashboards(t)["gdiag-pools.json"]
	for _, tc := range []struct{ name, old, new string }{
		{"wrong type", `"w": 12`, `"w": "12"`},
		{"unknown field", `"transparent": false`, `"transparent": false, "bogusField": 1`},
	} {
		bad := bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1)
		if bytes.Equal(bad, raw) {
			t.Fatalf("%s: %q not found in gdiag-pools.json", tc.name, tc.old)
		}
		var d dashboard.Dashboard
		if err := d.UnmarshalJSONStrict(bad); err == nil {
			t.Errorf("%s: UnmarshalJSONStrict accepted it; want an error", tc.name)
		}
	}
}

// jsonPanel is the part of a panel the checks below read.
type jsonPanel struct {
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *jsonDatasource `json:"datasource"`
	Panels      []jsonPanel     `json:"panels"`
	Links       []struct {
		URL string `json:"url"`
	} `json:"links"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr       string          `json:"expr"`
		RefID      string          `json:"refId"`
		Datasource *jsonDatasource `json:"datasource"`
	} `json:"targets"`
}

type jsonDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type jsonDashboard struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Tags       []string    `json:"tags"`
	Panels     []jsonPanel `json:"panels"`
	Templating struct {
		List []struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Links []struct {
		Type        string   `json:"type"`
		Tags        []string `json:"tags"`
		IncludeVars bool     `json:"includeVars"`
		URL         string   `json:"url"`
	} `json:"links"`
}

func decode(t *testing.T, raw []byte) jsonDashboard {
	t.Helper()
	var d jsonDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// flatPanels lists the dashboard's panels other than rows, including any
// inside collapsed rows.
func flatPanels(ps []jsonPanel) []jsonPanel {
	var out []jsonPanel
	for _, p := range ps {
		if p.Type == "row" {
			out = append(out, flatPanels(p.Panels)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// selectorRE finds each metric a query names, with its label matchers.
var selectorRE = regexp.MustCompile(`\b((?:gdiag|go)_[a-zA-Z0-9_]+)(\{[^}]*\})?`)

// TestPanels checks every panel: title, description and unit set, the
// datasource variable as its data source and its targets', RefIds set, and
// every metric selector narrowed by $job and $instance (and $pool on the
// Pools dashboard).
func TestPanels(t *testing.T) {
	for name, raw := range committedDashboards(t) {
		d := decode(t, raw)
		panels := flatPanels(d.Panels)
		for _, p := range panels {
			where := name + ": panel " + p.Title
			if p.Title == "" {
				t.Errorf("%s: a %s panel has no title", name, p.Type)
			}
			if p.Description == "" {
				t.Errorf("%s: no description", where)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
				t.Errorf("%s: datasource = %+v; want the ${datasource} variable", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no targets", where)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("%s: refId %q empty or repeated", where, tg.RefID)
				}
				refs[tg.RefID] = true
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: target %s datasource = %+v; want ${datasource}", where, tg.RefID, tg.Datasource)
				}
				sels := selectorRE.FindAllStringSubmatch(tg.Expr, -1)
				if len(sels) == 0 {
					t.Errorf("%s: target %s names no gdiag_ or go_ metric: %s", where, tg.RefID, tg.Expr)
				}
				for _, m := range sels {
					want := []string{`job=~"$job"`, `instance=~"$instance"`}
					if d.UID == "gdiag-pools" && strings.HasPrefix(m[1], "gdiag_pool_") {
						want = append(want, `pool=~"$pool"`)
					}
					for _, w := range want {
						if !strings.Contains(m[2], w) {
							t.Errorf("%s: selector %s%s lacks %s", where, m[1], m[2], w)
						}
					}
				}
			}
		}
	}
}

// TestVariablesAndLinks checks the template variables every dashboard
// needs and the links between the dashboards and to profiles.
func TestVariablesAndLinks(t *testing.T) {
	var uids []string
	for name, raw := range committedDashboards(t) {
		d := decode(t, raw)
		uids = append(uids, d.UID)
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			q, _ := v.Query.(string)
			vars[v.Name] = v.Type + " " + q
		}
		for v, want := range map[string]string{
			"datasource": "datasource prometheus",
			"pyroscope":  "datasource grafana-pyroscope-datasource",
			"job":        "query label_values(",
			"instance":   "query label_values(",
		} {
			if !strings.HasPrefix(vars[v], want) {
				t.Errorf("%s: variable %s = %q; want prefix %q", name, v, vars[v], want)
			}
		}
		if !contains(d.Tags, dashboards.Tag) {
			t.Errorf("%s: tags %v lack %q", name, d.Tags, dashboards.Tag)
		}
		var linksDashboards, linksProfiles bool
		for _, l := range d.Links {
			if l.Type == "dashboards" && contains(l.Tags, dashboards.Tag) && l.IncludeVars {
				linksDashboards = true
			}
			if strings.Contains(l.URL, "${pyroscope}") && strings.Contains(l.URL, "${job:regex}") {
				linksProfiles = true
			}
		}
		if !linksDashboards || !linksProfiles {
			t.Errorf("%s: links to tagged dashboards %v, to profiles %v; want both", name, linksDashboards, linksProfiles)
		}
	}
	sort.Strings(uids)
	if got := strings.Join(uids, " "); got != "gdiag-pools gdiag-runtime gdiag-scheduler" {
		t.Errorf("uids = %s; want gdiag-pools gdiag-runtime gdiag-scheduler", got)
	}
}

// TestProfileLinks decodes every Pyroscope link: Grafana Explore with the
// pyroscope data source, a known profile type and a selector on the job.
func TestProfileLinks(t *testing.T) {
	known := map[string]bool{
		"process_cpu:cpu:nanoseconds:cpu:nanoseconds": true,
		"goroutines:goroutine:count:goroutine:count":  true,
		"mutex:delay:nanoseconds:contentions:count":   true,
		"memory:alloc_space:bytes:space:bytes":        true,
	}
	n := 0
	for name, raw := range committedDashboards(t) {
		d := decode(t, raw)
		urls := []string{}
		for _, l := range d.Links {
			urls = append(urls, l.URL)
		}
		for _, p := range flatPanels(d.Panels) {
			for _, l := range p.Links {
				urls = append(urls, l.URL)
			}
		}
		for _, u := range urls {
			rest, ok := strings.CutPrefix(u, "/explore?")
			if !ok {
				continue
			}
			n++
			q, err := url.ParseQuery(rest)
			if err != nil {
				t.Fatalf("%s: link %s: %v", name, u, err)
			}
			var panes map[string]struct {
				Datasource string `json:"datasource"`
				Queries    []struct {
					ProfileTypeID string `json:"profileTypeId"`
					LabelSelector string `json:"labelSelector"`
				} `json:"queries"`
			}
			if err := json.Unmarshal([]byte(q.Get("panes")), &panes); err != nil {
				t.Fatalf("%s: link panes = %q: %v", name, q.Get("panes"), err)
			}
			a := panes["a"]
			if a.Datasource != "${pyroscope}" || len(a.Queries) != 1 {
				t.Fatalf("%s: link pane = %+v; want the ${pyroscope} data source and one query", name, a)
			}
			if qq := a.Queries[0]; !known[qq.ProfileTypeID] || !strings.HasPrefix(qq.LabelSelector, `{service_name=~"${job:regex}"`) {
				t.Errorf("%s: link query = %+v; want a known profile type and service_name=~\"${job:regex}\"", name, qq)
			}
		}
	}
	if n < 6 {
		t.Errorf("found %d profile links; want at least 6", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
