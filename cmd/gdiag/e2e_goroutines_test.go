package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goroutinesReport mirrors goroutines.Report's documented JSON, so that a
// change of schema fails here.
type goroutinesReport struct {
	Source          string `json:"source"`
	TotalGoroutines int    `json:"totalGoroutines"`
	TotalGroups     int    `json:"totalGroups"`
	ByState         []struct {
		State string `json:"state"`
		Count int    `json:"count"`
	} `json:"byState"`
	MatchedGoroutines int               `json:"matchedGoroutines"`
	MatchedGroups     int               `json:"matchedGroups"`
	Groups            []goroutinesGroup `json:"groups"`
}

// goroutinesFrame mirrors gdump.Frame.
type goroutinesFrame struct {
	Func   string `json:"func"`
	Args   string `json:"args"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Offset uint64 `json:"offset"`
	PC     uint64 `json:"pc"`
}

// goroutinesGroup mirrors gdump.Group.
type goroutinesGroup struct {
	Count              int               `json:"count"`
	State              string            `json:"state"`
	Frames             []goroutinesFrame `json:"frames"`
	InnerFramesOmitted int               `json:"innerFramesOmitted"`
	OuterFramesOmitted int               `json:"outerFramesOmitted"`
	CreatedBy          *goroutinesFrame  `json:"createdBy"`
	MinWait            int64             `json:"minWait"` // nanoseconds
	MaxWait            int64             `json:"maxWait"`
	IDs                []uint64          `json:"ids"`
}

// goroutinesDiff mirrors goroutines.Diff's JSON.
type goroutinesDiff struct {
	Before           string `json:"before"`
	After            string `json:"after"`
	BeforeGoroutines int    `json:"beforeGoroutines"`
	AfterGoroutines  int    `json:"afterGoroutines"`
	Grow             int    `json:"grow"`
	Grown            int    `json:"grown"`
	Shrunk           int    `json:"shrunk"`
	Groups           []struct {
		Before int `json:"before"`
		After  int `json:"after"`
		Delta  int `json:"delta"`
		goroutinesGroup
	} `json:"groups"`
}

// TestGoroutinesLive checks the text and JSON views of the shared demo
// and the filters.
func TestGoroutinesLive(t *testing.T) {
	d := sharedDemo(t)
	pid := strconv.Itoa(d.PID)
	r := gdiag(t, d.Dir, "goroutines", pid)
	if r.Code != 0 || !regexp.MustCompile(`^`+pid+`: \d+ goroutines in \d+ groups: \d+ `).MatchString(r.Stdout) {
		t.Fatalf("gdiag goroutines %s: want exit 0 and the summary line\n%s", pid, r)
	}
	if !strings.Contains(r.Stdout, "    github.com/gdiag/gdiag/pool.(*Pool).work\n") ||
		!strings.Contains(r.Stdout, "    created by github.com/gdiag/gdiag/pool.(*Pool).spawn\n") {
		t.Errorf("gdiag goroutines %s: no group with the pool's worker stack\n%s", pid, r)
	}

	var all goroutinesReport
	decodeJSON(t, gdiag(t, d.Dir, "goroutines", pid, "--json"), &all)
	sum := 0
	for _, g := range all.Groups {
		sum += g.Count
		if len(g.Frames) == 0 && g.State != "running" || g.Count < 1 || len(g.IDs) == 0 {
			t.Errorf("--json group %+v: want frames, a count and ids", g)
		}
	}
	if all.TotalGoroutines < 10 || sum != all.TotalGoroutines || len(all.Groups) != all.TotalGroups || all.Source != pid {
		t.Errorf("--json: %d goroutines, groups sum to %d, %d groups of %d; want them equal", all.TotalGoroutines, sum, len(all.Groups), all.TotalGroups)
	}

	filters := []struct {
		name string
		args []string
		ok   func(goroutinesGroup) bool
	}{
		{"state", []string{"--state", "IO wait"}, func(g goroutinesGroup) bool { return g.State == "IO wait" }},
		{"pkg", []string{"--pkg", "github.com/gdiag/gdiag/pool", "--depth", "2"}, func(g goroutinesGroup) bool {
			return g.CreatedBy != nil && strings.HasPrefix(g.CreatedBy.Func, "github.com/gdiag/gdiag/pool.") && len(g.Frames) <= 2
		}},
		{"min-wait", []string{"--min-wait", "1m"}, func(g goroutinesGroup) bool { return g.MinWait >= 60e9 }},
	}
	for _, f := range filters {
		var rep goroutinesReport
		decodeJSON(t, gdiag(t, d.Dir, append([]string{"goroutines", pid, "--json"}, f.args...)...), &rep)
		for _, g := range rep.Groups {
			if !f.ok(g) {
				t.Errorf("%s %v: group %+v does not match", f.name, f.args, g)
			}
		}
		if f.name != "min-wait" && (len(rep.Groups) == 0 || rep.MatchedGoroutines >= rep.TotalGoroutines) {
			t.Errorf("%s %v: %d groups, %d of %d goroutines; want some, not all", f.name, f.args, len(rep.Groups), rep.MatchedGoroutines, rep.TotalGoroutines)
		}
	}
	r = gdiag(t, d.Dir, "goroutines", pid, "--min-wait", "1000h", "--top", "3")
	if r.Code != 0 || !strings.Contains(r.Stdout, "no goroutine matches the filters") {
		t.Errorf("--min-wait 1000h: want no match, exit 0\n%s", r)
	}
}

// TestGoroutinesFiles saves a dump, reads it back, and checks the errors
// for bad files.
func TestGoroutinesFiles(t *testing.T) {
	d := sharedDemo(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "dump.txt")
	var live, file goroutinesReport
	decodeJSON(t, gdiag(t, d.Dir, "goroutines", strconv.Itoa(d.PID), "--save", saved, "--json"), &live)
	decodeJSON(t, gdiag(t, d.Dir, "goroutines", saved, "--json"), &file)
	if file.TotalGoroutines != live.TotalGoroutines || file.TotalGroups != live.TotalGroups || file.Source != saved {
		t.Errorf("saved dump: %d goroutines in %d groups; the live run printed %d in %d", file.TotalGoroutines, file.TotalGroups, live.TotalGoroutines, live.TotalGroups)
	}
	if r := gdiag(t, "", "goroutines", "--diff", saved, saved); r.Code != 0 || !strings.Contains(r.Stdout, "no group grew") {
		t.Errorf("--diff of a dump with itself: want exit 0, no growth\n%s", r)
	}

	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(b), ")\n\t") // end of the first call line
	bad := map[string]string{
		"garbage.txt":   "this is not a goroutine dump\nat all\n",
		"truncated.txt": string(b[:cut+2]),
		"empty.txt":     "",
	}
	want := map[string][]string{
		"garbage.txt": {"line 1", "no goroutine header found", "hint: "},
		"empty.txt":   {"no goroutines in the dump"},
	}
	for name, content := range bad {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		r := gdiag(t, "", "goroutines", p)
		if name == "truncated.txt" {
			// A dump cut inside a stack keeps the goroutine read so far.
			if r.Code != 0 || !strings.Contains(r.Stdout, "1 goroutine in 1 group") || !strings.Contains(r.Stdout, "note: the input ends inside a goroutine's stack: it was cut") {
				t.Errorf("gdiag goroutines %s: want exit 0, the goroutine and a note that the file was cut\n%s", name, r)
			}
			continue
		}
		if r.Code != 5 {
			t.Errorf("gdiag goroutines %s: exit %d; want 5\n%s", name, r.Code, r)
		}
		for _, w := range append(want[name], p+": ") {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("gdiag goroutines %s: stderr lacks %q\n%s", name, w, r)
			}
		}
	}
}

// TestGoroutinesDiffLeak watches a demo that leaks 50 goroutines a
// second: the leaking group must be listed first and the exit code be 1.
func TestGoroutinesDiffLeak(t *testing.T) {
	d := startDemoT(t, "-incident", "leak")
	r := gdiag(t, d.Dir, "goroutines", "--diff", strconv.Itoa(d.PID), "--after", "2s", "--grow", "20", "--json")
	var diff goroutinesDiff
	decodeJSON(t, r, &diff)
	if r.Code != 1 || diff.Grown < 1 || len(diff.Groups) == 0 {
		t.Fatalf("--diff on a leaking demo: exit %d, %d groups grew; want exit 1 and growth\n%s", r.Code, diff.Grown, r)
	}
	g := diff.Groups[0]
	if len(g.Frames) == 0 || g.Frames[0].Func != "main.leaked" || g.Delta < 20 || g.After-g.Before != g.Delta || diff.Grow != 20 {
		t.Errorf("--diff first group = %+v; want main.leaked grown by at least 20", g)
	}
	r = gdiag(t, d.Dir, "goroutines", "--diff", strconv.Itoa(d.PID), "--after", "1s", "--pkg", "main", "--top", "1")
	if r.Code != 1 || !strings.Contains(r.Stdout, "    main.leaked\n") || !regexp.MustCompile(`\n\+\d+ \(\d+ → \d+\) \[chan receive`).MatchString(r.Stdout) {
		t.Errorf("--diff text on a leaking demo: want exit 1 and the main.leaked group with its counts\n%s", r)
	}
}
