package gdump_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/gdump"
)

// corpus says what each file of ../testdata/crash (real crash output,
// see its README) must read as: the crash's message, the traceback
// level the output shows, and where the goroutine that raised it was
// (Goroutine.Where; "" when no goroutine raised it, "*" for a server
// under load sent SIGQUIT, where it depends on what ran when it arrived).
var corpus = map[string]struct {
	msg    string
	level  gdump.Level
	raiser string
}{
	"cgo-panic-all":               {"panic: assignment to entry in nil map", gdump.LevelAll, "main.main"},
	"cgo-sigsegv":                 {"SIGSEGV: segmentation violation", gdump.LevelSystem, "main._Cfunc_c_crash_deep"},
	"cgo-sigsegv-symbolized":      {"SIGSEGV: segmentation violation", gdump.LevelSystem, "c_traceback"},
	"fatal-concurrent-map-writes": {"fatal error: concurrent map writes", gdump.LevelSingle, "main.mapWrites.func1"},
	"fatal-deadlock":              {"fatal error: all goroutines are asleep - deadlock!", gdump.LevelAll, ""},
	"fatal-goexit-deadlock":       {"fatal error: no goroutines (main called runtime.Goexit) - deadlock!", gdump.LevelUnknown, ""},
	"fatal-stack-overflow":        {"fatal error: stack overflow", gdump.LevelSystem, "main.recurse"},
	"fatal-unlock-unlocked":       {"fatal error: sync: unlock of unlocked mutex", gdump.LevelSingle, "main.unlock"},
	"gorun-index":                 {"panic: runtime error: index out of range [5] with length 3", gdump.LevelSingle, "main.index"},
	"gotest-panic":                {"panic: runtime error: invalid memory address or nil pointer dereference", gdump.LevelSingle, "github.com/gdiag/gdiag/testdata/crash/progs/testcrash.TestPanic"},
	"gotest-synctest-deadlock":    {"panic: deadlock: all goroutines in bubble are blocked", gdump.LevelAll, "github.com/gdiag/gdiag/testdata/crash/progs/testcrash.TestBubbleDeadlock"},
	"gotest-timeout":              {"panic: test timed out after 3s", gdump.LevelAll, "testing.(*M).startAlarm.func1"},
	"panic-ancestors":             {"panic: runtime error: index out of range [5] with length 3", gdump.LevelAll, "main.index"},
	"panic-custom-type":           {"panic: code 42", gdump.LevelSingle, "main.init.func4"},
	"panic-deep-elided":           {"panic: deep recursion reached the bottom", gdump.LevelAll, "main.deep"},
	"panic-index-all":             {"panic: runtime error: index out of range [5] with length 3", gdump.LevelAll, "main.index"},
	"panic-index-crash":           {"panic: runtime error: index out of range [5] with length 3", gdump.LevelSystem, "main.index"},
	"panic-index-none":            {"panic: runtime error: index out of range [5] with length 3", gdump.LevelNone, ""},
	"panic-index-single":          {"panic: runtime error: index out of range [5] with length 3", gdump.LevelSingle, "main.index"},
	"panic-index-system":          {"panic: runtime error: index out of range [5] with length 3", gdump.LevelSystem, "main.index"},
	"panic-labels":                {"panic: runtime error: index out of range [5] with length 3", gdump.LevelAll, "main.index"},
	"panic-labels-go127":          {"panic: runtime error: index out of range [5] with length 3", gdump.LevelAll, "main.index"},
	"panic-multiline-error":       {"panic: open config: no such file", gdump.LevelSingle, "main.multiline"},
	"panic-nested":                {"panic: panic in deferred cleanup", gdump.LevelSingle, "main.nested.func1"},
	"panic-nil-sigsegv":           {"panic: runtime error: invalid memory address or nil pointer dereference", gdump.LevelSingle, "main.nilDeref"},
	"panic-recovered":             {"panic: handling first failure: cleanup failed", gdump.LevelSingle, "main.recovered.func1"},
	"panic-repanicked":            {"panic: connection reset", gdump.LevelSingle, "main.repanicked.func1"},
	"panic-then-fatal":            {"fatal error: sync: unlock of unlocked mutex", gdump.LevelSingle, "main.fatalInDefer.func1"},
	"panic-wait-locked-all":       {"panic: runtime error: index out of range [6] with length 3", gdump.LevelAll, "main.index"},
	"sigquit-crasher":             {"SIGQUIT: quit", gdump.LevelSystem, ""},
	"sigquit-crasher-crash":       {"SIGQUIT: quit", gdump.LevelSystem, ""},
	"sigquit-etcd":                {"SIGQUIT: quit", gdump.LevelSystem, "*"},
	"sigquit-node-exporter":       {"SIGQUIT: quit", gdump.LevelSystem, "*"},
	"sigquit-prometheus":          {"SIGQUIT: quit", gdump.LevelSystem, "*"},
	"throw-invariant":             {"fatal error: crasher: invariant broken", gdump.LevelSystem, "main.init.func1"},
	"throw-thread-exhaustion":     {"fatal error: thread exhaustion", gdump.LevelSystem, ""},
}

// TestCorpus reads every file of the crash corpus: each has a crash
// report with the expected message, level and raising goroutine, parses
// without a problem, and every file is listed above.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("../testdata/crash/*.txt")
	if len(files) < len(corpus) {
		t.Fatalf("found %d files in ../testdata/crash; want the %d of the corpus", len(files), len(corpus))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			want, ok := corpus[name]
			if !ok {
				t.Fatalf("%s is not in the corpus table: add what it must read as", name)
			}
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			d, err := gdump.Read(fh, gdump.Options{})
			if err != nil || d.Crash == nil {
				t.Fatalf("Read = crash %v, %v; want a crash report", d.Crash, err)
			}
			raiser := ""
			if g := d.Crash.Goroutine; g != nil {
				raiser = g.Where().Func
			}
			if want.raiser == "*" {
				want.raiser = raiser
			}
			if d.Crash.Message() != want.msg || d.Level != want.level || raiser != want.raiser {
				t.Errorf("Read = %q, level %q, raised in %q; want %q, %q, %q", d.Crash.Message(), d.Level, raiser, want.msg, want.level, want.raiser)
			}
			if g := d.Crash.Goroutine; strings.HasPrefix(name, "panic-labels") && (g == nil || !strings.Contains(g.Labels, "/api/orders")) {
				t.Errorf("raising goroutine %+v; want its pprof labels (handler /api/orders)", g)
			}
			noneLeft := name == "fatal-goexit-deadlock" // no goroutine existed to print
			if len(d.Problems) > 0 || d.Truncated || (d.Count == 0) != (want.level == gdump.LevelNone || noneLeft) {
				t.Errorf("Read = %d goroutines, problems %+v, truncated %v; want goroutines unless none, and no problem", d.Count, d.Problems, d.Truncated)
			}
		})
	}
}
