package dashboards

//go:generate go run ./cmd/gen -out json

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Tag is the tag every gdiag dashboard carries; the dashboards' links list
// the dashboards with this tag, so they find each other after import.
const Tag = "gdiag"

// Names of the template variables every dashboard defines. Panel queries
// select on JobVar and InstanceVar; panels read from DatasourceVar; profile
// links open PyroscopeVar.
const (
	DatasourceVar = "datasource"
	PyroscopeVar  = "pyroscope"
	JobVar        = "job"
	InstanceVar   = "instance"
)

// Plugin type identifiers of the data sources the dashboards use.
const (
	prometheusType = "prometheus"
	pyroscopeType  = "grafana-pyroscope-datasource"
)

// All returns every gdiag dashboard, in the order Scheduler, Pools, Runtime.
// It returns the first builder error.
func All() ([]dashboard.Dashboard, error) {
	var out []dashboard.Dashboard
	for _, build := range []func() (dashboard.Dashboard, error){Scheduler, Pools, Runtime} {
		d, err := build()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Files returns the JSON of every dashboard keyed by its file name
// (the dashboard's UID plus ".json"), as the generator writes them under
// dashboards/json.
func Files() (map[string][]byte, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(all))
	for _, d := range all {
		b, err := MarshalJSON(d)
		if err != nil {
			return nil, err
		}
		files[*d.Uid+".json"] = b
	}
	return files, nil
}

// MarshalJSON encodes d as indented JSON ending in a newline, the form
// Grafana's "Import dashboard" page accepts and the committed files use.
func MarshalJSON(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboards: marshal %s: %w", ptrString(d.Uid), err)
	}
	return append(b, '\n'), nil
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// promDS is the data source of every panel and query variable: the
// datasource variable, so one import serves whichever Prometheus users pick.
func promDS() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(prometheusType), Uid: cog.ToPtr("${" + DatasourceVar + "}")}
}

// base starts a dashboard with the settings all three share: tags, the
// variables, a refresh rate, and links to the other gdiag dashboards and
// to profiles.
func base(uid, title, description, jobMetric string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Readonly(). // regenerated from code: edits in Grafana would be lost
		Refresh("30s").
		Time("now-1h", "now").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVar).
			Label("Prometheus data source").
			Description("Prometheus data source holding the gdiag_* and go_* series.").
			Type(prometheusType)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(PyroscopeVar).
			Label("Pyroscope data source").
			Description("Pyroscope data source for the profile links; optional.").
			Type(pyroscopeType)).
		WithVariable(labelVariable(JobVar, "Job", "Prometheus jobs (services) to show.",
			fmt.Sprintf("label_values(%s, job)", jobMetric))).
		WithVariable(labelVariable(InstanceVar, "Instance", "Instances of the jobs to show.",
			fmt.Sprintf(`label_values(%s{job=~"$job"}, instance)`, jobMetric))).
		Link(dashboard.NewDashboardLinkBuilder("gdiag dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true)).
		Link(dashboard.NewDashboardLinkBuilder("CPU profile").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("external link").
			Tooltip("CPU profile of the selected jobs in the Pyroscope data source (service_name = job).").
			Url(profileURL(cpuProfile, "")).
			TargetBlank(true))
}

// build builds the dashboard and clears the links' placement, which the
// SDK sets to "inControlsMenu": Grafana 12.3 and later would then hide the
// links in a menu, and older versions do not know the field. Without it the
// links show above the panels.
func build(b *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel != nil {
			for i := range p.Panel.Links {
				p.Panel.Links[i].Placement = nil
			}
		}
	}
	return d, nil
}

// labelVariable is a multi-value query variable over a label's values. It
// offers "All", matched by the regex .+ so that queries stay short whatever
// the size of the fleet.
func labelVariable(name, label, description, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(promDS()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".+")
}

// Pyroscope profile type identifiers, as the pyroscope exporter sends them.
const (
	cpuProfile       = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
	goroutineProfile = "goroutines:goroutine:count:goroutine:count"
	mutexProfile     = "mutex:delay:nanoseconds:contentions:count"
	allocProfile     = "memory:alloc_space:bytes:space:bytes"
)

// profileURL links to Grafana Explore showing profileType for the selected
// job in the Pyroscope data source, over the dashboard's time range. extra
// adds label matchers (e.g. the pool). Variables stay as ${...} so that
// Grafana interpolates them when the link is followed.
func profileURL(profileType, extra string) string {
	selector := `{service_name=~"${job:regex}"` + extra + `}`
	pane := map[string]any{
		"a": map[string]any{
			"datasource": "${" + PyroscopeVar + "}",
			"queries": []any{map[string]any{
				"refId":         "A",
				"datasource":    map[string]string{"type": pyroscopeType, "uid": "${" + PyroscopeVar + "}"},
				"queryType":     "profile",
				"profileTypeId": profileType,
				"labelSelector": selector,
			}},
			"range": map[string]string{"from": "${__from}", "to": "${__to}"},
		},
	}
	b, err := json.Marshal(pane)
	if err != nil {
		panic("dashboards: " + err.Error()) // static data: cannot happen
	}
	// Escape the JSON but keep Grafana's ${...} placeholders readable and
	// interpolable.
	esc := url.QueryEscape(string(b))
	for _, v := range []string{"${" + PyroscopeVar + "}", "${" + JobVar + ":regex}", "${__from}", "${__to}", "${pool:regex}"} {
		esc = strings.ReplaceAll(esc, url.QueryEscape(v), v)
	}
	return "/explore?schemaVersion=1&orgId=1&panes=" + esc
}
