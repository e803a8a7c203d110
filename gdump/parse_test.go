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

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"no header", "hello\nworld\n"},
		{"bad id", "goroutine x [running]:\nmain.main()\n\t/x.go:1\n"},
		{"missing location", "goroutine 1 [running]:\nmain.main()\nmain.f()\n\t/x.go:1\n"},
		{"missing location at end", "goroutine 1 [running]:\nmain.main()\n"},
		{"bad line", "goroutine 1 [running]:\nmain.main()\n\t/x.go:abc\n"},
		{"bad offset", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0xzz\n"},
		{"not a call", "goroutine 1 [running]:\nmain.main\n\t/x.go:1\n"},
		{"empty state", "goroutine 1 []:\n"},
		{"bad wait", "goroutine 1 [sleep, x minutes]:\n"},
		{"junk after goroutine", "goroutine 1 [running]:\nmain.main()\n\t/x.go:1\n\nnot a header\n"},
		{"frame after created by", "goroutine 2 [sleep]:\ncreated by main.main\n\t/x.go:1\nmain.f()\n\t/x.go:2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gdump.Parse(strings.NewReader(tt.in))
			var se *gdump.SyntaxError
			if !errors.Is(err, gdump.ErrSyntax) || !errors.As(err, &se) || se.Line < 1 {
				t.Errorf("Parse(%q) error = %v; want a *SyntaxError wrapping ErrSyntax", tt.in, err)
			}
		})
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

func TestParseTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		_, err := gdump.Parse(bytes.NewReader(b))
		wantErr := strings.HasPrefix(filepath.Base(f), "bad_")
		if (err != nil) != wantErr {
			t.Errorf("Parse(%s) error = %v; want error: %v", f, err, wantErr)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := gdump.Parse(bytes.NewReader(b))
		if err != nil && !errors.Is(err, gdump.ErrSyntax) {
			t.Fatalf("Parse error %v does not wrap ErrSyntax", err)
		}
		total := 0
		for _, g := range gdump.GroupGoroutines(gs) {
			total += g.Count
		}
		if total != len(gs) {
			t.Fatalf("groups hold %d goroutines; Parse returned %d", total, len(gs))
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
