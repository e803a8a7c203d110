package main

import (
	"strings"
	"testing"
)

// Two rounds on a machine whose speed halves between them: the absolute
// medians move, the ratio inside each round does not.
func TestRatiosPerRound(t *testing.T) {
	in := `goos: linux
BenchmarkTiny/queue=workers/lib=gdiag/workers=2-2   200000   100.0 ns/op   0 B/op   0 allocs/op
BenchmarkTiny/queue=workers/lib=chan/workers=2-2    200000    50.0 ns/op   0 B/op   0 allocs/op
BenchmarkTiny/queue=workers/lib=gdiag/workers=2-2   200000   300.0 ns/op   0 B/op   0 allocs/op
BenchmarkTiny/queue=workers/lib=chan/workers=2-2    200000   150.0 ns/op   0 B/op   0 allocs/op
PASS
`
	var out strings.Builder
	if err := run(&out, strings.NewReader(in), []string{"chan"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Tiny/queue=workers/workers=2", "gdiag 200 chan 100", "÷ chan, per round: gdiag 2.00×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run() output lacks %q:\n%s", want, out.String())
		}
	}
}
