package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// makeTraces writes n doctor traces of size bytes (sparse) into dir, the
// i-th modified i minutes after a fixed time, plus one unrelated file.
func makeTraces(t *testing.T, dir string, n int, size int64) []string {
	t.Helper()
	var names []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%s%d-%03d%s", tracePrefix, 1000+i, i, traceSuffix))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
		mt := time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	return names
}

func remaining(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, tracePrefix+"*"+traceSuffix))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// TestPruneTracesBound: after each save doctor keeps the newest maxTraces
// traces and at most maxTraceBytes of them, and leaves other files alone.
func TestPruneTracesBound(t *testing.T) {
	dir := t.TempDir()
	names := makeTraces(t, dir, 30, 1<<20)
	newest := names[len(names)-1]
	if err := pruneTraces(dir, newest); err != nil {
		t.Fatal(err)
	}
	got := remaining(t, dir)
	if want := names[len(names)-maxTraces:]; !slices.Equal(got, want) {
		t.Errorf("after pruning 30 small traces: %d left %v; want the newest %d", len(got), got, maxTraces)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("an unrelated file was removed: %v", err)
	}

	dir = t.TempDir()
	names = makeTraces(t, dir, 10, 100<<20) // 1 GB of traces
	if err := pruneTraces(dir, names[len(names)-1]); err != nil {
		t.Fatal(err)
	}
	got = remaining(t, dir)
	if want := names[len(names)-maxTraceBytes/(100<<20):]; !slices.Equal(got, want) {
		t.Errorf("after pruning 10 traces of 100 MiB: %v; want the newest %d (≤ %d MiB)", got, len(want), maxTraceBytes>>20)
	}

	// One trace larger than the bound alone is kept: it was just asked for.
	dir = t.TempDir()
	names = makeTraces(t, dir, 2, maxTraceBytes+1)
	if err := pruneTraces(dir, names[0]); err != nil {
		t.Fatal(err)
	}
	if got := remaining(t, dir); !slices.Equal(got, names[:1]) {
		t.Errorf("after pruning with a huge new trace: %v; want only it", got)
	}
}

func TestDefaultTraceDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	t.Setenv("HOME", "/x/home")
	if got, want := defaultTraceDir(), "/x/cache/gdiag/doctor"; got != want {
		t.Errorf("defaultTraceDir() = %q; want %q", got, want)
	}
}
