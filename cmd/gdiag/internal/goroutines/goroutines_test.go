package goroutines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
	"github.com/gdiag/gdiag/gdump"
)

// dump builds a debug=2 dump: for each spec, count goroutines in state
// (with wait minutes when > 0) blocked in fn, created by main.main.
type spec struct {
	count int
	state string
	wait  int
	fn    string
}

func dump(specs ...spec) string {
	var b strings.Builder
	id := 1
	for _, s := range specs {
		for range s.count {
			id++
			fmt.Fprintf(&b, "goroutine %d [%s", id, s.state)
			if s.wait > 0 {
				fmt.Fprintf(&b, ", %d minutes", s.wait)
			}
			fmt.Fprintf(&b, "]:\n%s(0xc%06x)\n\t/src/%s.go:10 +0x1d\nmain.run()\n\t/src/main.go:20 +0x2\n", s.fn, id, s.fn)
			b.WriteString("created by main.main in goroutine 1\n\t/src/main.go:5 +0x3c\n\n")
		}
	}
	return b.String()
}

func parse(t *testing.T, s string) []gdump.Goroutine {
	t.Helper()
	gs, err := gdump.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("gdump.Parse: %v", err)
	}
	return gs
}

var sample = dump(
	spec{5, "chan receive", 3, "example.com/svc/jobs.worker"},
	spec{2, "chan receive", 12, "example.com/svc/jobs.worker"},
	spec{4, "IO wait", 0, "net/http.(*conn).serve"},
	spec{3, "select", 0, "example.com/svc.loop"},
	spec{1, "chan send", 1, "example.com/svcx.send"},
)

func TestNewReport(t *testing.T) {
	gs := parse(t, sample)
	tests := []struct {
		name        string
		o           goroutines.Options
		matched     int   // goroutines
		counts      []int // of the groups shown
		firstFrames int
	}{
		{"all", goroutines.Options{}, 15, []int{7, 4, 3, 1}, 2},
		{"state", goroutines.Options{State: "CHAN"}, 8, []int{7, 1}, 2},
		{"state exact", goroutines.Options{State: "IO wait"}, 4, []int{4}, 2},
		{"pkg", goroutines.Options{Pkg: "example.com/svc"}, 10, []int{7, 3}, 2},
		{"pkg below", goroutines.Options{Pkg: "example.com"}, 11, []int{7, 3, 1}, 2},
		{"pkg main", goroutines.Options{Pkg: "main"}, 15, []int{7, 4, 3, 1}, 2},
		{"min wait", goroutines.Options{MinWait: 3 * time.Minute}, 7, []int{7}, 2},
		{"min wait under a minute", goroutines.Options{MinWait: 30 * time.Second}, 8, []int{7, 1}, 2},
		{"min wait long", goroutines.Options{MinWait: 10 * time.Minute}, 2, []int{2}, 2},
		{"top", goroutines.Options{Top: 2}, 15, []int{7, 4}, 2},
		{"depth", goroutines.Options{Depth: 1}, 15, []int{7, 4, 3, 1}, 1},
		{"nothing", goroutines.Options{State: "running"}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goroutines.NewReport("x", gs, tt.o)
			if r.TotalGoroutines != 15 || r.TotalGroups != 4 {
				t.Errorf("NewReport(%+v) totals = %d, %d; want 15, 4", tt.o, r.TotalGoroutines, r.TotalGroups)
			}
			var counts []int
			for _, g := range r.Groups {
				counts = append(counts, g.Count)
			}
			if r.MatchedGoroutines != tt.matched || fmt.Sprint(counts) != fmt.Sprint(tt.counts) {
				t.Errorf("NewReport(%+v) = %d matched in groups %v; want %d in %v", tt.o, r.MatchedGoroutines, counts, tt.matched, tt.counts)
			}
			if len(r.Groups) > 0 && len(r.Groups[0].Frames) != tt.firstFrames {
				t.Errorf("NewReport(%+v) first group has %d frames; want %d", tt.o, len(r.Groups[0].Frames), tt.firstFrames)
			}
		})
	}
	r := goroutines.NewReport("x", gs, goroutines.Options{})
	g := r.Groups[0]
	if g.State != "chan receive" || g.MinWait != 3*time.Minute || g.MaxWait != 12*time.Minute ||
		g.CreatedBy.Func != "main.main" || g.Frames[0].Func != "example.com/svc/jobs.worker" || g.Frames[0].Line != 10 {
		t.Errorf("NewReport first group = %+v; want 7 chan receive, 3 to 12 minutes, worker created by main.main", g)
	}
	if fmt.Sprint(r.ByState) != "[{chan receive 7} {IO wait 4} {select 3} {chan send 1}]" {
		t.Errorf("NewReport ByState = %v", r.ByState)
	}
}

func TestWriteText(t *testing.T) {
	gs := parse(t, sample)
	var b bytes.Buffer
	o := goroutines.Options{Top: 2, Depth: 1}
	if err := goroutines.NewReport("sample.txt", gs, o).WriteText(&b, o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sample.txt: 15 goroutines in 4 groups: 7 chan receive, 4 IO wait, 3 select, 1 chan send\n",
		"showing 2 of 4 groups (15 goroutines)\n",
		"7 goroutines [chan receive, 3 to 12 minutes]  ids 2 3 4 5 6 7 8\n    example.com/svc/jobs.worker\n        /src/example.com/svc/jobs.worker.go:10\n    ... 1 frame more (--depth)\n    created by main.main\n        /src/main.go:5\n",
		"4 goroutines [IO wait]",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestNewDiff(t *testing.T) {
	before := parse(t, dump(spec{5, "chan receive", 0, "main.a"}, spec{4, "select", 0, "main.b"}, spec{2, "sleep", 0, "main.c"}))
	after := parse(t, dump(spec{9, "chan receive", 2, "main.a"}, spec{3, "select", 0, "main.b"}, spec{6, "IO wait", 0, "main.d"}))
	tests := []struct {
		name          string
		a, b          []gdump.Goroutine
		o             goroutines.Options
		grow          int
		want          string // delta before→after of each group listed
		grown, shrunk int
	}{
		{"growth", before, after, goroutines.Options{}, 1, "[+6 0→6 +4 5→9]", 2, 2},
		{"threshold", before, after, goroutines.Options{}, 5, "[+6 0→6]", 1, 2},
		{"top", before, after, goroutines.Options{Top: 1}, 1, "[+6 0→6]", 2, 2},
		{"filtered", before, after, goroutines.Options{State: "chan"}, 1, "[+4 5→9]", 1, 0},
		{"same", after, after, goroutines.Options{}, 1, "[]", 0, 0},
		{"grow 0 is 1", after, after, goroutines.Options{}, 0, "[]", 0, 0},
		{"all gone", after, nil, goroutines.Options{}, 1, "[]", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := goroutines.NewDiff("a", "b", tt.a, tt.b, tt.o, tt.grow)
			var got []string
			for _, g := range d.Groups {
				got = append(got, fmt.Sprintf("%+d %d→%d", g.Delta, g.Before, g.After))
			}
			if fmt.Sprint(got) != tt.want && !(tt.want == "[]" && len(got) == 0) || d.Grown != tt.grown || d.Shrunk != tt.shrunk {
				t.Errorf("NewDiff = %v, grown %d, shrunk %d; want %s, %d, %d", got, d.Grown, d.Shrunk, tt.want, tt.grown, tt.shrunk)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	b, err := os.ReadFile("testdata/demo-leak.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &out}
	if err := goroutines.Analyze(context.Background(), env, "demo-leak.txt", bytes.NewReader(b)); err != nil {
		t.Fatalf("Analyze(demo-leak.txt) = %v", err)
	}
	if !strings.HasPrefix(out.String(), "demo-leak.txt: 155 goroutines in 17 groups: 136 chan receive,") ||
		!strings.Contains(out.String(), "136 goroutines [chan receive]") || !strings.Contains(out.String(), "    main.leaked\n") {
		t.Errorf("Analyze(demo-leak.txt) text = %s; want 155 goroutines with a group of 136 in main.leaked", out.String())
	}
	out.Reset()
	env.JSON = true
	if err := goroutines.Analyze(context.Background(), env, "demo-leak.txt", bytes.NewReader(b)); err != nil {
		t.Fatalf("Analyze(demo-leak.txt, JSON) = %v", err)
	}
	var r goroutines.Report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("Analyze JSON does not decode into Report: %v", err)
	}
	if r.TotalGoroutines != 155 || r.MatchedGoroutines != 155 || len(r.Groups) != 17 || r.Groups[0].Count != 136 {
		t.Errorf("Analyze JSON = %d goroutines, %d groups, first %d; want 155, 17, 136", r.TotalGoroutines, len(r.Groups), r.Groups[0].Count)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no goroutines in the dump"},
		{"garbage", "hello\nworld\n", "line 1: no goroutine header found"},
		{"bad header", "goroutine x [running]:\nmain.main()\n\t/x.go:1\n", "line 1: bad goroutine id"},
		{"crash without goroutines", "panic: boom\n", "no goroutine in the dump: the runtime printed the crash report alone (GOTRACEBACK=none)"},
		{"too long a line", "goroutine 1 [running]:\nmain.main(" + strings.Repeat("0x1, ", 300000) + "0x1)\n", "line 2 is longer than 1048576 bytes"},
		{"debug=1", "goroutine profile: total 3\n2 @ 0x43e8ce 0x40a5c5\n", "a debug=1 goroutine profile"},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00", "gzip-compressed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := goroutines.Analyze(context.Background(), &cli.Env{Stdout: &out, Stderr: &out}, "f.txt", strings.NewReader(tt.in))
			var ce *cli.Error
			if !errors.As(err, &ce) || ce.Code != cli.ExitInput || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "f.txt: ") || ce.Hint == "" {
				t.Errorf("Analyze(%q) = %v; want a cli.Error, exit 5, naming f.txt, with %q and a hint", tt.in, err, tt.want)
			}
		})
	}
}

// TestAnalyzeTruncated reads dumps cut in the middle of a stack: the
// goroutines before the cut are reported, with a note that says where
// the file was cut.
func TestAnalyzeTruncated(t *testing.T) {
	tests := []struct{ name, in, note string }{
		{"after a call", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\nmain.f(0x1)\n", "it was cut"},
		{"in a header", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n\ngoroutine 2 [chan rec", `line 5: malformed goroutine header: "goroutine 2 [chan rec"`},
		{"in a location", "goroutine 1 [running]:\nmain.main()\n\t/x.go:", `line 3: expected file:line: "\t/x.go:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := goroutines.Analyze(context.Background(), &cli.Env{Stdout: &out, Stderr: &out}, "f.txt", strings.NewReader(tt.in))
			if err != nil || !strings.HasPrefix(out.String(), "f.txt: 1 goroutine in 1 group: 1 running\n") || !strings.Contains(out.String(), "\nnote: ") ||
				!strings.Contains(out.String(), tt.note) {
				t.Errorf("Analyze(%q) = %v; want goroutine 1 and a note with %q\n%s", tt.in, err, tt.note, out.String())
			}
		})
	}
}

// FuzzAnalyze runs the whole offline path on arbitrary bytes: it must
// never panic, fail only with exit code 5, and group and diff
// consistently.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob("../../../../gdump/testdata/*.txt")
	more, _ := filepath.Glob("testdata/*.txt")
	crash, _ := filepath.Glob("../../../../testdata/crash/*.txt")
	for _, name := range append(append(files, more...), crash...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if len(files) == 0 || len(more) == 0 || len(crash) < 30 {
		f.Fatal("no seed files found")
	}
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, js := range []bool{false, true} {
			var out bytes.Buffer
			err := goroutines.Analyze(context.Background(), &cli.Env{Stdout: &out, Stderr: &out, JSON: js}, "fuzz", bytes.NewReader(b))
			if ce := (*cli.Error)(nil); err != nil && (!errors.As(err, &ce) || ce.Code != cli.ExitInput) {
				t.Fatalf("Analyze error = %v; want a cli.Error with code 5", err)
			}
		}
		gs, err := gdump.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		r := goroutines.NewReport("fuzz", gs, goroutines.Options{Depth: 2, Pkg: "main", State: "a"})
		total := 0
		for _, s := range r.ByState {
			total += s.Count
		}
		if total != len(gs) || r.TotalGoroutines != len(gs) || r.MatchedGoroutines > len(gs) {
			t.Fatalf("NewReport: %d by state, %d total, %d matched; Parse found %d", total, r.TotalGoroutines, r.MatchedGoroutines, len(gs))
		}
		if d := goroutines.NewDiff("a", "b", gs, gs, goroutines.Options{}, 1); d.Grown != 0 || d.Shrunk != 0 {
			t.Fatalf("NewDiff of a dump with itself: %d grown, %d shrunk; want none", d.Grown, d.Shrunk)
		}
		all := goroutines.NewReport("fuzz", gs, goroutines.Options{})
		if d := goroutines.NewDiff("a", "b", nil, gs, goroutines.Options{}, 1); d.Grown != all.TotalGroups {
			t.Fatalf("NewDiff from nothing: %d grown; want all %d groups", d.Grown, all.TotalGroups)
		}
	})
}
