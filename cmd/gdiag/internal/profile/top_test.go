package profile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
)

// realProfiles captures small profiles of this test process with
// runtime/pprof, by name; they seed the fuzz test too.
func realProfiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal(err)
	}
	spin(200 * time.Millisecond)
	pprof.StopCPUProfile()
	out["cpu"] = bytes.Clone(buf.Bytes())
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	keep := allocate()
	runtime.GC()
	// The runtime scales heap samples by the rate in force when the
	// profile is written, so the rate is restored only after.
	defer func() { runtime.MemProfileRate = old }()
	// Mutex and block profiles are off unless a rate is set: record every
	// event while contend makes some, and stop recording afterwards.
	oldFraction := runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	defer func() {
		runtime.SetMutexProfileFraction(oldFraction)
		runtime.SetBlockProfileRate(0)
	}()
	if err := contend(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"heap", "allocs", "goroutine", "threadcreate", "mutex", "block"} {
		buf.Reset()
		if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
			t.Fatal(err)
		}
		out[name] = bytes.Clone(buf.Bytes())
	}
	runtime.KeepAlive(keep)
	return out
}

var sink int

//go:noinline
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 1000 {
			sink += i * i
		}
	}
}

// contend makes mutex contention and blocking until both profiles hold
// a record. Each round has goroutines hold a mutex across a short sleep,
// so that the others wait on it, and receive from a channel whose sender
// sleeps first; one round is nearly always enough.
//
//go:noinline
func contend() error {
	for range 100 {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 5 {
					mu.Lock()
					time.Sleep(100 * time.Microsecond)
					mu.Unlock()
				}
			})
		}
		ch := make(chan int)
		go func() {
			time.Sleep(time.Millisecond)
			ch <- 1
		}()
		<-ch
		wg.Wait()
		if pprof.Lookup("mutex").Count() > 0 && pprof.Lookup("block").Count() > 0 {
			return nil
		}
	}
	return fmt.Errorf("contend: no mutex (%d) or block (%d) records after 100 rounds", pprof.Lookup("mutex").Count(), pprof.Lookup("block").Count())
}

//go:noinline
func allocate() [][]byte {
	var keep [][]byte
	for i := range 2000 {
		keep = append(keep, make([]byte, 64+i%512))
	}
	return keep
}

// synthetic is a profile whose table is known: recursion (cum counted once
// per sample), an inlined frame (flat to the inner function), a tie on flat
// broken by name, and a second sample type that must not be summed.
func synthetic() *profile.Profile {
	fn := func(id uint64, name string) *profile.Function {
		return &profile.Function{ID: id, Name: name, SystemName: name, Filename: "x.go"}
	}
	main, a, b, inl := fn(1, "main.main"), fn(2, "main.a"), fn(3, "main.b"), fn(4, "main.inlined")
	loc := func(id uint64, fns ...*profile.Function) *profile.Location {
		l := &profile.Location{ID: id, Address: 0x1000 + id}
		for i, f := range fns {
			l.Line = append(l.Line, profile.Line{Function: f, Line: int64(10 + i)})
		}
		return l
	}
	lm, la, lb, linl := loc(1, main), loc(2, a), loc(3, b), loc(4, inl, a)
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "contentions", Unit: "count"},
		Period:     1,
		Sample: []*profile.Sample{
			{Location: []*profile.Location{la, la, la, lm}, Value: []int64{1, 300}},
			{Location: []*profile.Location{lb, lm}, Value: []int64{100, 300}},
			{Location: []*profile.Location{linl, lm}, Value: []int64{1, 250}},
			{Location: []*profile.Location{lm}, Value: []int64{1, 150}},
		},
		Location: []*profile.Location{lm, la, lb, linl},
		Function: []*profile.Function{main, a, b, inl},
	}
}

func TestMakeTopSynthetic(t *testing.T) {
	got := MakeTop(synthetic(), "mutex", 0)
	want := []Row{
		{Function: "main.a", Flat: 300, Cum: 550},
		{Function: "main.b", Flat: 300, Cum: 300},
		{Function: "main.inlined", Flat: 250, Cum: 250},
		{Function: "main.main", Flat: 150, Cum: 1000},
	}
	if got.SampleType != "delay" || got.Total != 1000 || len(got.Functions) != len(want) {
		t.Fatalf("MakeTop(synthetic) = %s %d, %d rows; want delay 1000, %d rows", got.SampleType, got.Total, len(got.Functions), len(want))
	}
	for i, w := range want {
		g := got.Functions[i]
		if g.Function != w.Function || g.Flat != w.Flat || g.Cum != w.Cum {
			t.Errorf("MakeTop(synthetic) row %d = %s %d %d; want %s %d %d", i, g.Function, g.Flat, g.Cum, w.Function, w.Flat, w.Cum)
		}
	}
	if g := got.Functions[1]; g.FlatPct != 30 || g.SumPct != 60 || g.CumPct != 30 {
		t.Errorf("MakeTop(synthetic) main.b percentages = %v %v %v; want 30 60 30", g.FlatPct, g.SumPct, g.CumPct)
	}
	if top := MakeTop(synthetic(), "mutex", 2); len(top.Functions) != 2 || top.Omitted != 2 {
		t.Errorf("MakeTop(synthetic, n=2) = %d rows, %d omitted; want 2, 2", len(top.Functions), top.Omitted)
	}
}

// TestTopMatchesPprof checks MakeTop against pprof's own -top, run
// in-process through its driver on the same files: every row's function,
// flat and cum in the profile's base unit, and the formatted flat column
// as go tool pprof prints it.
func TestTopMatchesPprof(t *testing.T) {
	profiles := realProfiles(t)
	var syn bytes.Buffer
	if err := synthetic().Write(&syn); err != nil {
		t.Fatal(err)
	}
	profiles["mutex-synthetic"] = syn.Bytes()
	dir := t.TempDir()
	for name, data := range profiles {
		t.Run(name, func(t *testing.T) {
			kind, _, _ := strings.Cut(name, "-")
			p, err := profile.ParseData(data)
			if err != nil {
				t.Fatal(err)
			}
			top := MakeTop(p, kind, 0)
			if len(top.Functions) == 0 {
				t.Fatalf("%s profile has no samples; realProfiles makes some of every kind", name)
			}
			path := filepath.Join(dir, name+".pb.gz")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			unit := map[string]string{"nanoseconds": "ns", "bytes": "B"}[top.Unit]
			args := []string{"-top", "-sample_index=" + top.SampleType, "-nodefraction=0", "-nodecount=0"}
			base := pprofTop(t, append(args, "-unit="+or(unit, "minimum"))...)(path)
			if len(base) != len(top.Functions) {
				t.Errorf("MakeTop(%s) has %d functions; pprof -top has %d", name, len(top.Functions), len(base))
			}
			for i := range min(len(base), len(top.Functions)) {
				g, w := top.Functions[i], base[i]
				gf, gc := raw(g.Flat, unit), raw(g.Cum, unit)
				if g.Function != w.name || gf != w.flat || gc != w.cum {
					t.Errorf("MakeTop(%s) row %d = %s %s %s; want pprof's %s %s %s", name, i, g.Function, gf, gc, w.name, w.flat, w.cum)
				}
			}
			var printed bytes.Buffer
			top.Print(&printed, name)
			// pprof keeps its settings between runs: -unit is given again.
			formatted := pprofTop(t, append(args, "-unit=minimum")...)(path)
			for i, l := range strings.Split(printed.String(), "\n")[2:] {
				if f := strings.Fields(l); len(f) > 0 && i < len(formatted) && f[0] != formatted[i].flat {
					t.Errorf("Top.Print(%s) row %d flat = %s; want pprof's %s", name, i, f[0], formatted[i].flat)
				}
			}
		})
	}
}

// raw formats v as pprof does with -unit set to the base unit.
func raw(v int64, unit string) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatInt(v, 10) + unit
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type pprofRow struct{ flat, cum, name string }

// pprofTop returns a function that runs pprof's driver with args on a
// file and returns its rows.
func pprofTop(t *testing.T, args ...string) func(path string) []pprofRow {
	return func(path string) []pprofRow {
		t.Helper()
		w := &memWriter{}
		err := driver.PProf(&driver.Options{
			Flagset: &flags{args: append(append([]string{}, args...), "-output=top", path)},
			Writer:  w,
			Sym:     noSymbols{},
			UI:      &quietUI{w: io.Discard},
		})
		if err != nil {
			t.Fatalf("pprof %s: %v", strings.Join(args, " "), err)
		}
		var rows []pprofRow
		header := false
		for _, l := range strings.Split(w.buf.String(), "\n") {
			f := strings.Fields(l)
			switch {
			case len(f) > 0 && f[0] == "flat":
				header = true
			case header && len(f) >= 6:
				rows = append(rows, pprofRow{flat: f[0], cum: f[3], name: f[5]})
			}
		}
		if !header {
			t.Fatalf("pprof %s printed no table:\n%s", strings.Join(args, " "), w.buf.String())
		}
		return rows
	}
}

type memWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (m *memWriter) Open(string) (io.WriteCloser, error) { return m, nil }
func (m *memWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.Write(p)
}
func (m *memWriter) Close() error { return nil }

// BenchmarkMakeTop measures the table of a small real allocs profile.
func BenchmarkMakeTop(b *testing.B) {
	p, err := profile.ParseData(realProfiles(b)["allocs"])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(p.Sample)), "samples")
	for b.Loop() {
		MakeTop(p, "allocs", 15)
	}
}
