package dump_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/maruel/panicparse/v2/stack"

	"github.com/gdiag/gdiag/bench/dump"
	"github.com/gdiag/gdiag/gdump"
)

// gdiagGroups parses and groups with gdiag's parser and returns the
// number of goroutines and the group sizes, largest first.
func gdiagGroups(tb testing.TB, b []byte) (int, []int) {
	gs, err := gdump.Parse(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("gdump.Parse: %v", err)
	}
	var sizes []int
	for _, g := range gdump.GroupGoroutines(gs) {
		sizes = append(sizes, g.Count)
	}
	return len(gs), sizes
}

// panicparseGroups does the same with panicparse v2. Opts{} turns off
// what gdiag does not do either (naming arguments, guessing GOPATH and
// reading sources from disk); AnyValue ignores arguments when grouping,
// as gdiag does, so both group by state, stack and creator only.
func panicparseGroups(tb testing.TB, b []byte) (int, []int) {
	snap, _, err := stack.ScanSnapshot(bytes.NewReader(b), discard{}, &stack.Opts{})
	if snap == nil {
		tb.Fatalf("stack.ScanSnapshot found no goroutines: %v", err)
	}
	var sizes []int
	for _, bk := range snap.Aggregate(stack.AnyValue).Buckets {
		sizes = append(sizes, len(bk.IDs))
	}
	slices.SortFunc(sizes, func(a, b int) int { return b - a })
	return len(snap.Goroutines), sizes
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestSameWork checks that both libraries find the same goroutines and the
// same groups in a small dump, so that BenchmarkDump compares equal work.
func TestSameWork(t *testing.T) {
	b := dump.Generate(3000)
	n1, g1 := gdiagGroups(t, b)
	n2, g2 := panicparseGroups(t, b)
	if n1 != 3000 || n2 != 3000 {
		t.Errorf("goroutines: gdiag %d, panicparse %d; want 3000 both", n1, n2)
	}
	if len(g1) < 50 || !slices.Equal(g1, g2) {
		t.Errorf("group sizes: gdiag %v\npanicparse %v\nwant the same, at least 50 groups", g1, g2)
	}
}

// BenchmarkDump parses a 100,000-goroutine dump and groups it by stack.
func BenchmarkDump(b *testing.B) {
	const n = 100_000
	in := dump.Generate(n)
	libs := []struct {
		name string
		run  func(testing.TB, []byte) (int, []int)
	}{
		{"gdiag", gdiagGroups},
		{"panicparse", panicparseGroups},
	}
	for _, lib := range libs {
		b.Run("lib="+lib.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if got, _ := lib.run(b, in); got != n {
					b.Fatalf("%s found %d goroutines; want %d", lib.name, got, n)
				}
			}
		})
	}
}
