package doctor

import (
	"bytes"
	"runtime"
	"runtime/trace"
	"testing"
	"time"
)

// shortTrace records an execution trace of this process for d.
func shortTrace(t testing.TB, d time.Duration) []byte {
	var b bytes.Buffer
	if err := trace.Start(&b); err != nil {
		t.Skipf("tracing already on: %v", err)
	}
	time.Sleep(d)
	trace.Stop()
	return b.Bytes()
}

// TestCountProcs: a trace names every P, idle or not.
func TestCountProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(prev)
	n, err := countProcs(bytes.NewReader(shortTrace(t, 50*time.Millisecond)))
	if err != nil || n != 3 {
		t.Errorf("countProcs(trace at GOMAXPROCS 3) = %d, %v; want 3", n, err)
	}
	if _, err := countProcs(bytes.NewReader([]byte("not a trace"))); err == nil {
		t.Error("countProcs(garbage) = nil error; want one")
	}
}

func TestParseMemLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"1024", 1024}, {"512MiB", 512 << 20}, {"2GiB", 2 << 30}, {"100B", 100}, {"1TiB", 1 << 40}} {
		if got, err := parseMemLimit(c.in); err != nil || got != c.want {
			t.Errorf("parseMemLimit(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "MiB", "1.5GiB", "-1", "12XB"} {
		if _, err := parseMemLimit(bad); err == nil {
			t.Errorf("parseMemLimit(%q) = nil error; want one", bad)
		}
	}
}

// FuzzCountProcs: a trace from the target is external input; reading it
// returns a count or an error, never panics or loops.
func FuzzCountProcs(f *testing.F) {
	f.Add(shortTrace(f, 10*time.Millisecond))
	f.Add([]byte("go 1.22 trace\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := countProcs(bytes.NewReader(b)); err == nil && n <= 0 {
			t.Errorf("countProcs = %d with no error; want a positive count", n)
		}
	})
}
