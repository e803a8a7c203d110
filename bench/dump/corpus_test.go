package dump_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maruel/panicparse/v2/stack"

	"github.com/gdiag/gdiag/gdump"
)

// corpusFiles returns the crash corpus (../../testdata/crash): real
// output of crashing programs, see its README.
func corpusFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, _ := filepath.Glob("../../testdata/crash/*.txt")
	if len(names) < 30 {
		tb.Fatalf("found %d files in ../../testdata/crash; want the crash corpus", len(names))
	}
	files := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		files[strings.TrimSuffix(filepath.Base(n), ".txt")] = b
	}
	return files
}

// panicparseIDs lists the goroutines panicparse finds in b, reading it
// as its own pp command does: ScanSnapshot again on what follows each
// snapshot, until the end of the input or an error.
func panicparseIDs(b []byte) ([]uint64, error) {
	var in io.Reader = bytes.NewReader(b)
	var ids []uint64
	for {
		snap, suffix, err := stack.ScanSnapshot(in, io.Discard, &stack.Opts{})
		if snap != nil {
			for _, g := range snap.Goroutines {
				ids = append(ids, uint64(g.ID))
			}
		}
		switch err {
		case nil:
			in = io.MultiReader(bytes.NewReader(suffix), in)
		case io.EOF:
			return ids, nil
		default:
			return ids, err
		}
	}
}

func gdiagIDs(tb testing.TB, b []byte) []uint64 {
	d, err := gdump.Read(bytes.NewReader(b), gdump.Options{})
	if err != nil {
		tb.Fatalf("gdump.Read: %v", err)
	}
	ids := make([]uint64, len(d.Goroutines))
	for i := range d.Goroutines {
		ids[i] = d.Goroutines[i].ID
	}
	return ids
}

// panicparseStops lists the corpus files panicparse v2.5.0 stops reading
// with an error, and why; on the others the two must agree.
var panicparseStops = map[string]struct {
	err, why string
}{
	"cgo-sigsegv-symbolized": {"expected a function after a goroutine header",
		"a symbolized cgo frame has no argument list; panicparse gives up at the first, gdiag reads on"},
	"panic-multiline-error": {"expected a function after a goroutine header",
		"panicparse takes the indented \"goroutine 9 [running]:\" inside the panic value for a goroutine and stops; the runtime never indents a header"},
}

// panicparseMisses lists the corpus files where panicparse v2.5.0 reads
// to the end without an error but skips goroutines, and why.
var panicparseMisses = map[string]string{
	"panic-labels":       "a header with pprof labels inside the bracket (Go 1.26): panicparse drops the goroutine, the crashing one included",
	"panic-labels-go127": "a header with pprof labels after the bracket (Go 1.27): panicparse drops the goroutine, the crashing one included",
}

// TestCorpusMatchesPanicparse checks that gdiag finds the same
// goroutines as panicparse, in the same order, in every file of the crash
// corpus that panicparse reads to its end (except where it is known to
// skip goroutines, listed above); where panicparse stops with an
// error, that it still does, for the reason listed, and that gdiag finds
// every goroutine the runtime printed.
func TestCorpusMatchesPanicparse(t *testing.T) {
	for name, b := range corpusFiles(t) {
		t.Run(name, func(t *testing.T) {
			got := gdiagIDs(t, b)
			want, err := panicparseIDs(b)
			if stop, ok := panicparseStops[name]; ok {
				headers := bytes.Count(b, []byte("\ngoroutine "))
				if err == nil || !strings.Contains(err.Error(), stop.err) || len(got) != headers {
					t.Errorf("panicparse: %v; gdiag found %d goroutines of %d headers; want panicparse to stop with %q (%s) and gdiag to find all",
						err, len(got), headers, stop.err, stop.why)
				}
				t.Logf("gdiag %d goroutines, panicparse %d before it stopped: %v", len(got), len(want), err)
				return
			}
			if why, ok := panicparseMisses[name]; ok {
				headers := bytes.Count(b, []byte("\ngoroutine "))
				if err != nil || len(want) >= headers || len(got) != headers {
					t.Errorf("panicparse %d goroutines, error %v; gdiag %d; the runtime printed %d headers; want panicparse to miss some (%s) and gdiag to find all",
						len(want), err, len(got), headers, why)
				}
				t.Logf("gdiag %d goroutines, panicparse %d: %s", len(got), len(want), why)
				return
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("gdiag found %d goroutines %v\npanicparse %d %v, error %v", len(got), got, len(want), want, err)
			}
			t.Logf("gdiag %d goroutines, panicparse %d", len(got), len(want))
		})
	}
}

// BenchmarkCorpus reads every file of the crash corpus, gdiag with
// gdump.Read and grouping, panicparse as its pp command does with
// grouping.
func BenchmarkCorpus(b *testing.B) {
	files := corpusFiles(b)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	b.Run("lib=gdiag", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range files {
				d, err := gdump.Read(bytes.NewReader(f), gdump.Options{})
				if err != nil {
					b.Fatal(err)
				}
				gdump.GroupGoroutines(d.Goroutines)
			}
		}
	})
	b.Run("lib=panicparse", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range files {
				var in io.Reader = bytes.NewReader(f)
				for {
					snap, suffix, err := stack.ScanSnapshot(in, io.Discard, &stack.Opts{})
					if snap != nil {
						snap.Aggregate(stack.AnyValue)
					}
					if err != nil {
						break
					}
					in = io.MultiReader(bytes.NewReader(suffix), in)
				}
			}
		}
	})
}
