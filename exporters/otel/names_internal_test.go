package otel

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/gdiag/gdiag/pool"
)

// TestNameCacheBounded checks that default span names are right whether
// they come from the cache or not, and that made-up labels cannot grow the
// cache past maxNames.
func TestNameCacheBounded(t *testing.T) {
	o := NewObserver(noop.NewTracerProvider())
	for i := range maxNames + 100 {
		ti := pool.TaskInfo{Pool: "p", Label: fmt.Sprint("l", i)}
		for range 2 { // the second time from the cache, while it has room
			if got, want := o.name(ti), "pool.task p "+ti.Label; got != want {
				t.Fatalf("name(%v) = %q; want %q", ti, got, want)
			}
		}
	}
	n := 0
	o.names.Range(func(any, any) bool { n++; return true })
	if n != maxNames || int(o.nname.Load()) != maxNames {
		t.Errorf("cache holds %d names (count %d); want %d", n, o.nname.Load(), maxNames)
	}
	if got := o.name(pool.TaskInfo{Pool: "p"}); got != "pool.task p" {
		t.Errorf("name without a label = %q; want %q", got, "pool.task p")
	}
}
