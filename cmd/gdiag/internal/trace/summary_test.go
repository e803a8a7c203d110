package tracecmd

import (
	"bytes"
	"errors"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// workload makes goroutines block on a channel, a mutex and a sleep, burn
// CPU (so some wait runnable on 2 cores), and runs a GC, for about 100 ms.
func workload() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ch := make(chan int)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				switch i % 4 {
				case 0:
					ch <- j
				case 1:
					<-ch
				case 2:
					mu.Lock()
					spin(200 * time.Microsecond)
					mu.Unlock()
				case 3:
					time.Sleep(time.Millisecond)
					spin(500 * time.Microsecond)
				}
			}
		}()
	}
	runtime.GC()
	wg.Wait()
}

var sink atomic.Int64

// spin burns CPU for d; it is called from many goroutines at once.
func spin(d time.Duration) {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 100 {
			n += i
		}
	}
	sink.Add(int64(n))
}

// realTrace traces workload with runtime/trace.
func realTrace(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	workload()
	trace.Stop()
	return buf.Bytes()
}

// flightTrace dumps a flight recorder after workload: the trace starts
// with goroutines in states that began before it.
func flightTrace(t testing.TB) []byte {
	t.Helper()
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: time.Second})
	if err := fr.Start(); err != nil {
		t.Fatal(err)
	}
	defer fr.Stop()
	workload()
	var buf bytes.Buffer
	if _, err := fr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSummarize(t *testing.T) {
	for name, data := range map[string][]byte{"trace": realTrace(t), "flight": flightTrace(t)} {
		t.Run(name, func(t *testing.T) {
			s, err := Summarize(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Summarize(%s) = %v", name, err)
			}
			if s.Goroutines < 9 || s.Events == 0 || s.DurationNanos <= 0 {
				t.Errorf("Summarize(%s) = %d goroutines, %d events, %v; want >= 9 goroutines, some events and time", name, s.Goroutines, s.Events, s.DurationNanos)
			}
			l := s.SchedLatency
			if l.Count == 0 || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
				t.Errorf("Summarize(%s).SchedLatency = %+v; want samples with p50 <= p90 <= p99 <= max", name, l)
			}
			cats := map[string]bool{}
			for _, w := range s.Waits {
				cats[w.Category] = w.TotalNanos > 0 && w.Count > 0 && len(w.Reasons) > 0
			}
			for _, want := range []string{catChan, catSync, catSleep} {
				if !cats[want] {
					t.Errorf("Summarize(%s).Waits = %+v; want time in %q", name, s.Waits, want)
				}
			}
			if s.GC.Cycles < 1 || s.GC.STW < 1 || s.GC.STWLongestNanos <= 0 {
				t.Errorf("Summarize(%s).GC = %+v; want the forced GC and its pauses", name, s.GC)
			}
			if len(s.TopRunnable) == 0 {
				t.Errorf("Summarize(%s).TopRunnable is empty; want the workload's goroutines", name)
			}
		})
	}
}

func TestCategory(t *testing.T) {
	for reason, want := range map[string]string{
		"chan receive": catChan, "chan send": catChan, "select": catSelect, "sync": catSync,
		"sync.(*Cond).Wait": catSync, "network": catNet, "sleep": catSleep, "syscall": catSyscall,
		"GC mark assist wait for work": catGC, "system goroutine wait": catRuntime, "": catBefore,
		"something new": catOther,
	} {
		if got := category(reason); got != want {
			t.Errorf("category(%q) = %q; want %q", reason, got, want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	data := realTrace(t)
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"good", data, true},
		{"empty", nil, false},
		{"garbage", []byte("not a trace at all"), false},
		{"header only", data[:16], false},
		{"truncated", data[:len(data)/2], false},
		{"profile", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), false},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := Analyze(&cli.Env{Stdout: &out, Stderr: &out}, c.name, bytes.NewReader(c.data))
		var ce *cli.Error
		switch {
		case c.ok && err != nil:
			t.Errorf("Analyze(%s) = %v; want nil", c.name, err)
		case c.ok && !strings.Contains(out.String(), "scheduling latency"):
			t.Errorf("Analyze(%s) printed %q; want the scheduling latency", c.name, out.String())
		case !c.ok && (!errors.As(err, &ce) || ce.Code != cli.ExitInput):
			t.Errorf("Analyze(%s) = %v; want an input error (exit 5)", c.name, err)
		}
	}
}

// FuzzAnalyze feeds Analyze a real trace, truncated copies of it and
// garbage: it must never panic, and every failure must be an input error.
func FuzzAnalyze(f *testing.F) {
	data := realTrace(f)
	f.Add(data)
	for _, n := range []int{16, 64, 256, 1024, len(data) / 2} {
		f.Add(data[:min(n, len(data))])
	}
	f.Add([]byte("go 1.26 trace\x00\x00\x00"))
	f.Add([]byte("go 1.21 trace\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		err := Analyze(&cli.Env{Stdout: &out, Stderr: &out, JSON: true}, "fuzz", bytes.NewReader(b))
		var ce *cli.Error
		if err != nil && (!errors.As(err, &ce) || ce.Code != cli.ExitInput) {
			t.Fatalf("Analyze = %v; want nil or an input error", err)
		}
	})
}

// BenchmarkSummarize measures reading and summarising a small real trace
// (about 50 ms of 8 busy goroutines); b.SetBytes gives the rate per byte.
func BenchmarkSummarize(b *testing.B) {
	data := realTrace(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Summarize(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
