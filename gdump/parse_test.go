package gdump_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/gdump"
	"go.uber.org/goleak"
)

func TestParseFeatures(t *testing.T) {
	b, err := os.ReadFile("testdata/features.txt")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := gdump.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Parse(features.txt) error = %v", err)
	}
	if len(gs) != 5 {
		t.Fatalf("Parse(features.txt) = %d goroutines; want 5", len(gs))
	}
	g1 := gs[0]
	if g1.ID != 1 || g1.State != "running" || len(g1.Frames) != 1 || g1.Frames[0].File != "/home/u/app/main.go" ||
		g1.Frames[0].Line != 25 || g1.Frames[0].Offset != 0x1d || g1.CreatedBy.Func != "" {
		t.Errorf("goroutine 1 = %+v", g1)
	}
	g18 := gs[1]
	if g18.State != "chan receive" || g18.Wait != 5*time.Minute || g18.Locked ||
		g18.Frames[0].Func != "main.worker" || g18.Frames[0].Args != "0xc000010000, {0x4b1a2c, 0x3}" ||
		g18.CreatedBy != (gdump.Frame{Func: "main.main", File: "/home/u/app/main.go", Line: 12, Offset: 0x3c}) || g18.CreatorID != 1 {
		t.Errorf("goroutine 18 = %+v", g18)
	}
	if !gs[2].Locked || gs[2].Wait != 7*time.Minute {
		t.Errorf("goroutine 19: Locked = %v, Wait = %v; want true, 7m", gs[2].Locked, gs[2].Wait)
	}
	g20 := gs[3]
	if g20.State != "sync.Mutex.Lock" || g20.Labels != `"handler": "a, b]"` || !g20.Elided || len(g20.Frames) != 2 ||
		g20.Frames[0].Func != "sync.(*Mutex).Lock" || g20.Frames[0].Args != "..." ||
		g20.Frames[1].File != "/home/u/my app/server.go" || g20.CreatedBy.Func != "net/http.(*Server).Serve" || g20.CreatorID != 0 {
		t.Errorf("goroutine 20 = %+v", g20)
	}
	g21 := gs[4]
	if g21.State != "select (no cases)" || len(g21.Flags) != 1 || g21.Flags[0] != "synctest bubble 3" || len(g21.Frames) != 0 || g21.CreatedBy.Line != 14 {
		t.Errorf("goroutine 21 = %+v", g21)
	}
	groups := gdump.GroupGoroutines(gs)
	if len(groups) != 4 || groups[0].Count != 2 || groups[0].MinWait != 5*time.Minute || groups[0].MaxWait != 7*time.Minute ||
		fmt.Sprint(groups[0].IDs) != "[18 19]" {
		t.Errorf("GroupGoroutines = %+v; want 4 groups, the first of 2 (18, 19) waiting 5m..7m", groups)
	}
}

// TestParseFramesApart checks that goroutines' frames, which share an
// arena, and arguments, which share a string per goroutine, stay apart.
func TestParseFramesApart(t *testing.T) {
	in := "goroutine 1 [running]:\nmain.a(0x1, 0x2)\n\t/a.go:1\nmain.b(...)\n\t/b.go:2\n\n" +
		"goroutine 2 [sleep]:\nmain.c(0x3)\n\t/c.go:3\nmain.d()\n\t/d.go:4\n"
	gs, err := gdump.Parse(strings.NewReader(in))
	if err != nil || len(gs) != 2 {
		t.Fatalf("Parse = %d goroutines, %v; want 2, nil", len(gs), err)
	}
	gs[0].Frames = append(gs[0].Frames, gdump.Frame{Func: "main.clobber"})
	want := []gdump.Frame{{Func: "main.c", Args: "0x3", File: "/c.go", Line: 3}, {Func: "main.d", File: "/d.go", Line: 4}}
	if fmt.Sprint(gs[1].Frames) != fmt.Sprint(want) {
		t.Errorf("goroutine 2 frames = %+v; want %+v", gs[1].Frames, want)
	}
	if a := gs[0].Frames; a[0].Args != "0x1, 0x2" || a[1].Args != "..." || a[1].File != "/b.go" {
		t.Errorf("goroutine 1 frames = %+v", a)
	}
}

// TestReadDamaged checks that damaged stacks keep the goroutines around
// them, list the lines at fault and never fail.
func TestReadDamaged(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		count     int // goroutines
		frames    int // of the last goroutine
		problems  int
		other     int
		truncated bool
	}{
		{"missing location", "goroutine 1 [running]:\nmain.main()\nmain.f()\n\t/x.go:1\n", 1, 0, 1, 3, false},
		{"missing location at end", "goroutine 1 [running]:\nmain.main()\n", 1, 1, 0, 0, true},
		{"bad line", "goroutine 1 [running]:\nmain.main()\n\t/x.go:abc\nmain.f()\n\t/x.go:2\n", 1, 2, 1, 0, false},
		{"bad offset", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0xzz\n", 1, 1, 1, 0, false},
		{"bare word then file", "goroutine 1 [running]:\nmain.main\n\t/x.go:1\n", 1, 0, 0, 2, false},
		{"bad id", "goroutine x [running]:\nmain.main()\n\t/x.go:1\n", 0, 0, 1, 3, false},
		{"empty state", "goroutine 1 []:\n", 0, 0, 1, 1, false},
		{"bad wait", "goroutine 1 [sleep, x minutes]:\n", 0, 0, 1, 1, false},
		{"log line after", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1\n\nnot a header\n", 1, 1, 0, 1, false},
		{"log line between", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1\nserver stopped\ngoroutine 2 [sleep]:\nmain.f()\n\t/x.go:2\n", 2, 1, 0, 1, false},
		{"frame after created by", "goroutine 2 [sleep]:\ncreated by main.main\n\t/x.go:1\nmain.f()\n\t/x.go:2\n", 1, 0, 0, 2, false},
		{"cut in a header", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n\ngoroutine 2 [chan rec", 1, 1, 1, 1, true},
		{"cut in a location", "goroutine 1 [running]:\nmain.main()\n\t/x.go:", 1, 1, 1, 0, true},
		{"stray indented line", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1\n\tstray\n", 1, 1, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := gdump.Read(strings.NewReader(tt.in), gdump.Options{})
			if err != nil {
				t.Fatalf("Read error = %v", err)
			}
			frames := -1
			if len(d.Goroutines) > 0 {
				frames = len(d.Goroutines[len(d.Goroutines)-1].Frames)
			}
			if d.Count != tt.count || len(d.Goroutines) != tt.count || tt.count > 0 && frames != tt.frames ||
				len(d.Problems) != tt.problems || d.Other != tt.other || d.Truncated != tt.truncated {
				t.Errorf("Read(%q) = %d goroutines, %d frames in the last, problems %+v, %d other lines, truncated %v; want %d, %d, %d problems, %d, %v",
					tt.in, d.Count, frames, d.Problems, d.Other, d.Truncated, tt.count, tt.frames, tt.problems, tt.other, tt.truncated)
			}
		})
	}
}

func TestParseNoGoroutine(t *testing.T) {
	for _, in := range []string{"hello\nworld\n", "goroutine x [running]:\n", "panic: boom\n"} {
		_, err := gdump.Parse(strings.NewReader(in))
		var se *gdump.SyntaxError
		if !errors.Is(err, gdump.ErrSyntax) || !errors.As(err, &se) || se.Line < 1 {
			t.Errorf("Parse(%q) error = %v; want a *SyntaxError wrapping ErrSyntax", in, err)
		}
	}
	if gs, err := gdump.Parse(strings.NewReader("")); err != nil || len(gs) != 0 {
		t.Errorf("Parse(\"\") = %v, %v; want none, nil", gs, err)
	}
}

// TestParseLive parses this process's own dumps in both formats.
func TestParseLive(t *testing.T) {
	defer goleak.VerifyNone(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 25 {
		wg.Add(1)
		go func() { defer wg.Done(); <-stop }()
	}
	defer func() { close(stop); wg.Wait() }()
	buf := make([]byte, 1<<20)
	dumps := map[string]func() []byte{
		"runtime.Stack": func() []byte { return buf[:runtime.Stack(buf, true)] },
		"pprof debug=2": func() []byte {
			var prof bytes.Buffer
			if err := pprof.Lookup("goroutine").WriteTo(&prof, 2); err != nil {
				t.Fatal(err)
			}
			return prof.Bytes()
		},
	}
	for name, dump := range dumps {
		// The goroutines may not all be blocked yet: retry for a while.
		found := 0
		for try := 0; try < 200 && found != 25; try++ {
			time.Sleep(time.Duration(try) * time.Millisecond)
			gs, err := gdump.Parse(bytes.NewReader(dump()))
			if err != nil {
				t.Fatalf("%s: Parse error = %v", name, err)
			}
			found = 0
			for _, g := range gdump.GroupGoroutines(gs) {
				if g.State == "chan receive" && strings.HasPrefix(g.CreatedBy.Func, "github.com/gdiag/gdiag/gdump_test.TestParseLive") {
					found = g.Count
				}
			}
		}
		if found != 25 {
			t.Errorf("%s: group of TestParseLive's chan receive goroutines has %d; want 25\n%s", name, found, dump())
		}
	}
}

// TestReadTestdata reads the package's damaged samples: each must list
// the line at fault.
func TestReadTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		d, err := gdump.Read(bytes.NewReader(b), gdump.Options{})
		wantProblems := strings.HasPrefix(filepath.Base(f), "bad_")
		if err != nil || (len(d.Problems) > 0) != wantProblems {
			t.Errorf("Read(%s) = problems %+v, error %v; want problems: %v", f, d.Problems, err, wantProblems)
		}
	}
}

// FuzzParse reads arbitrary bytes with Read and Scan: no panic, an
// error only for a bound of Options, and the same goroutines both ways.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	crash, _ := filepath.Glob("../testdata/crash/*.txt")
	for _, name := range append(files, crash...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if len(crash) < 20 {
		f.Fatalf("found %d crash files in ../testdata/crash; want the corpus", len(crash))
	}
	f.Add([]byte("goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n"))
	opts := gdump.Options{MaxLine: 4096, MaxFrames: 50, MaxBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := gdump.Read(bytes.NewReader(b), opts)
		if err != nil && !errors.Is(err, gdump.ErrLimit) {
			t.Fatalf("Read error %v does not wrap ErrLimit", err)
		}
		if d.Count != len(d.Goroutines) || len(d.Problems) > gdump.MaxProblems {
			t.Fatalf("Read: Count %d, %d goroutines, %d problems", d.Count, len(d.Goroutines), len(d.Problems))
		}
		var gr gdump.Grouper
		sd, serr := gdump.Scan(bytes.NewReader(b), opts, gr.Add)
		if (serr == nil) != (err == nil) || sd.Count != d.Count || sd.Level != d.Level {
			t.Fatalf("Scan = %d goroutines, level %q, %v; Read = %d, %q, %v", sd.Count, sd.Level, serr, d.Count, d.Level, err)
		}
		total := 0
		for _, g := range gr.Groups() {
			total += g.Count
		}
		if all := gdump.GroupGoroutines(d.Goroutines); total != d.Count || len(all) != gr.Len() {
			t.Fatalf("groups hold %d goroutines in %d groups; Read found %d in %d", total, gr.Len(), d.Count, len(all))
		}
		for i := range d.Goroutines {
			if g := &d.Goroutines[i]; len(g.Frames) > opts.MaxFrames {
				t.Fatalf("goroutine %d has %d frames; MaxFrames is %d", g.ID, len(g.Frames), opts.MaxFrames)
			}
		}
	})
}

// genDump writes a dump of n goroutines in 50 shapes, like a server.
func genDump(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "goroutine %d [chan receive, %d minutes]:\n", i+1, i%7+1)
		for d := range 8 {
			fmt.Fprintf(&b, "example.com/svc/handler%d.step%d(0xc000%06x, {0x4b1a2c, 0x3})\n\t/src/svc/handler%d/step.go:%d +0x%x\n", i%50, d, i, i%50, 10+d, 0x20+d)
		}
		fmt.Fprintf(&b, "created by example.com/svc.Serve in goroutine 1\n\t/src/svc/serve.go:88 +0x3c\n\n")
	}
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	dump := genDump(100_000)
	b.SetBytes(int64(len(dump)))
	b.ReportAllocs()
	for b.Loop() {
		gs, err := gdump.Parse(bytes.NewReader(dump))
		if err != nil || len(gs) != 100_000 {
			b.Fatalf("Parse = %d goroutines, %v", len(gs), err)
		}
	}
}

func BenchmarkGroup(b *testing.B) {
	gs, _ := gdump.Parse(bytes.NewReader(genDump(100_000)))
	b.ReportAllocs()
	for b.Loop() {
		if g := gdump.GroupGoroutines(gs); len(g) != 50 {
			b.Fatalf("GroupGoroutines = %d groups; want 50", len(g))
		}
	}
}
