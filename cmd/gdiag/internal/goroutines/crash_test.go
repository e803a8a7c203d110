package goroutines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
	"github.com/gdiag/gdiag/gdump"
)

const corpusDir = "../../../../testdata/crash"

// TestCrashReports reads every file of the crash corpus as gdiag
// goroutines FILE does: the text opens with the crash's message and,
// before the goroutine summary, the goroutine that raised it; the JSON
// has the crash first after the source; only a file whose goroutines
// GOTRACEBACK=none hid exits 5.
func TestCrashReports(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.txt"))
	if len(files) < 30 {
		t.Fatalf("found %d files in %s; want the crash corpus", len(files), corpusDir)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := gdump.Read(bytes.NewReader(b), gdump.Options{})
			if err != nil || d.Crash == nil {
				t.Fatalf("gdump.Read = %v, crash %v", err, d.Crash)
			}
			var out bytes.Buffer
			err = goroutines.Analyze(context.Background(), &cli.Env{Stdout: &out, Stderr: &out}, name, bytes.NewReader(b))
			var ce *cli.Error
			// GOTRACEBACK=none hid the goroutines: exit 5, saying how to see
			// them. A program with none left (main called runtime.Goexit)
			// has its whole report printed.
			hidden := d.Level == gdump.LevelNone
			if hidden {
				if !errors.As(err, &ce) || ce.Code != cli.ExitInput || !strings.Contains(err.Error(), "no goroutine in the dump") {
					t.Errorf("Analyze = %v; want exit 5: no goroutine in the dump", err)
				}
			} else if err != nil {
				t.Fatalf("Analyze = %v", err)
			}
			text := out.String()
			if first, _, _ := strings.Cut(text, "\n"); first != name+": "+d.Crash.Message() {
				t.Errorf("first line = %q; want %q", first, name+": "+d.Crash.Message())
			}
			summary := strings.Index(text, "\n"+name+": ")
			if g := d.Crash.Goroutine; g != nil {
				raised := strings.Index(text, "goroutine "+strconv.FormatUint(g.ID, 10)+" [")
				if raised < 0 || summary >= 0 && raised > summary || !strings.Contains(text[raised:], "    "+g.Where().Func+"\n") {
					t.Errorf("the goroutine that raised it (%d, in %s) is not shown before the summary:\n%s", g.ID, g.Where().Func, text)
				}
			}
			if !strings.Contains(text, "\ntraceback: ") {
				t.Errorf("no traceback line saying what the level hid:\n%s", text)
			}

			out.Reset()
			err = goroutines.Analyze(context.Background(), &cli.Env{Stdout: &out, Stderr: &out, JSON: true}, name, bytes.NewReader(b))
			if (err != nil) != hidden {
				t.Fatalf("Analyze --json = %v", err)
			}
			raw := out.Bytes()
			var r goroutines.Report
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("--json does not decode into a Report: %v", err)
			}
			if r.Crash == nil || r.Crash.Message != d.Crash.Message() || r.Crash.Level != d.Level || r.TotalGoroutines != d.Count {
				t.Errorf("--json crash = %+v, %d goroutines; want %q, level %q, %d", r.Crash, r.TotalGoroutines, d.Crash.Message(), d.Level, d.Count)
			}
			if c, g := bytes.Index(raw, []byte(`"crash"`)), bytes.Index(raw, []byte(`"totalGoroutines"`)); c < 0 || c > g {
				t.Errorf("--json: the crash does not come before the goroutines:\n%.300s", raw)
			}
		})
	}
}

// TestDepthKeepsOwnFrames cuts the stacks of real servers to two frames:
// every group that has a frame outside the runtime and the standard
// library keeps the first such frame, not runtime_pollWait or gopark.
func TestDepthKeepsOwnFrames(t *testing.T) {
	for _, name := range []string{"sigquit-etcd.txt", "sigquit-prometheus.txt", "sigquit-node-exporter.txt"} {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		gs, err := gdump.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		full := map[uint64]gdump.Group{} // by first id
		for _, g := range gdump.GroupGoroutines(gs) {
			full[g.IDs[0]] = g
		}
		r := goroutines.NewReport(name, gs, goroutines.Options{Depth: 2})
		own := 0
		for _, g := range r.Groups {
			f := full[g.IDs[0]]
			where := (&gdump.Goroutine{Frames: f.Frames}).Where()
			if where.IsStd() {
				continue
			}
			own++
			if len(g.Frames) != min(2, len(f.Frames)) || !slicesContainsFunc(g.Frames, where.Func) ||
				g.InnerOmitted+len(g.Frames)+g.OuterOmitted != len(f.Frames) {
				t.Errorf("%s: group of %d at --depth 2 = %s (%d+%d omitted); want it to keep %s", name, g.Count, frameFuncs(g.Frames), g.InnerOmitted, g.OuterOmitted, where.Func)
			}
		}
		if own < 10 {
			t.Errorf("%s: %d groups with frames of the server's own; want at least 10", name, own)
		}
	}
}

func slicesContainsFunc(fs []gdump.Frame, fn string) bool {
	for _, f := range fs {
		if f.Func == fn {
			return true
		}
	}
	return false
}

func frameFuncs(fs []gdump.Frame) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Func)
	}
	return strings.Join(s, " ")
}
