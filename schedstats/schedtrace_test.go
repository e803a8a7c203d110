package schedstats_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

func TestParseSchedtracePlain(t *testing.T) {
	in := strings.Join([]string{
		"2026/01/01 12:00:00 server listening on :8080",
		"SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=6 spinningthreads=0 needspinning=0 idlethreads=2 runqueue=17 [ 3 5 ] schedticks=[ 10 20 ]",
		"some other line with SCHED in the middle? no: 'SCHEDULE'",
		"SCHED 2005ms: gomaxprocs=4 idleprocs=1 threads=8 spinningthreads=1 idlethreads=3 runqueue=0 [1 2 3 4]", // older form
		"partial log lineSCHED 3006ms: gomaxprocs=1 idleprocs=1 threads=3 runqueue=2 [ 0 ]",                     // unterminated output before it
	}, "\n")
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseSchedtrace: %v", err)
	}
	want := []schedstats.TraceRecord{
		{Line: 2, Uptime: 1004 * time.Millisecond, GOMAXPROCS: 2, Threads: 6, IdleThreads: 2, RunQueue: 17,
			LocalRunQueues: []int{3, 5}, SchedTicks: []uint64{10, 20}},
		{Line: 4, Uptime: 2005 * time.Millisecond, GOMAXPROCS: 4, IdleProcs: 1, Threads: 8, SpinningThreads: 1,
			IdleThreads: 3, LocalRunQueues: []int{1, 2, 3, 4}},
		{Line: 5, Uptime: 3006 * time.Millisecond, GOMAXPROCS: 1, IdleProcs: 1, Threads: 3, RunQueue: 2,
			LocalRunQueues: []int{0}},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("ParseSchedtrace =\n%+v\nwant\n%+v", recs, want)
	}
	s := recs[0].Snapshot()
	if s.GOMAXPROCS != 2 || s.GlobalRunQueue != 17 || !reflect.DeepEqual(s.LocalRunQueues, []int{3, 5}) ||
		s.Sources.RunQueues != schedstats.SourceSchedtrace || s.Sources.Goroutines != schedstats.SourceNone {
		t.Errorf("Snapshot() = %+v", s)
	}
}

func TestParseSchedtraceDetail(t *testing.T) {
	in := `SCHED 104ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 needspinning=1 idlethreads=1 runqueue=4 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false
  P0: status=1 schedtick=6 syscalltick=0 m=0 runqsize=1 gfreecnt=0 timerslen=0
  P1: status=0 schedtick=10 syscalltick=2 m=nil runqsize=3 gfreecnt=4 timerslen=1
  M1: p=nil curg=nil mallocing=0 throwing=0 preemptoff=GC assist locks=2 dying=0 spinning=false blocked=true lockedg=nil
  M0: p=0 curg=11 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=true blocked=false lockedg=1
  G1: status=4(sync.WaitGroup.Wait) m=nil lockedm=0
  G2: status=4(force gc (idle)) m=nil lockedm=nil
  G6: status=1() m=nil lockedm=nil
  G11: status=2() m=0 lockedm=nil
  G12: status=4099() m=nil lockedm=nil
  G13: status=6() m=nil lockedm=nil
`
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(in))
	if err != nil || len(recs) != 1 {
		t.Fatalf("ParseSchedtrace = %d records, %v; want 1, nil", len(recs), err)
	}
	r := recs[0]
	if !r.Detailed || len(r.Ps) != 2 || len(r.Ms) != 2 || len(r.Gs) != 6 {
		t.Fatalf("record detail: detailed=%v Ps=%d Ms=%d Gs=%d; want true 2 2 6", r.Detailed, len(r.Ps), len(r.Ms), len(r.Gs))
	}
	if want := (schedstats.TraceP{ID: 1, Status: 0, SchedTick: 10, SyscallTick: 2, M: -1, RunQSize: 3, GFreeCnt: 4, TimersLen: 1}); r.Ps[1] != want {
		t.Errorf("P1 = %+v; want %+v", r.Ps[1], want)
	}
	if want := (schedstats.TraceM{ID: 0, P: 0, CurG: 11, Spinning: true, LockedG: 1}); r.Ms[1] != want {
		t.Errorf("M0 = %+v; want %+v", r.Ms[1], want)
	}
	if want := (schedstats.TraceG{ID: 2, Status: 4, WaitReason: "force gc (idle)", M: -1, LockedM: -1}); r.Gs[1] != want {
		t.Errorf("G2 = %+v; want %+v", r.Gs[1], want)
	}
	if r.Gs[4].Status != 3 {
		t.Errorf("G12 status = %d; want 3 (scan bit cleared)", r.Gs[4].Status)
	}
	if !reflect.DeepEqual(r.LocalRunQueues, []int{1, 3}) || !reflect.DeepEqual(r.SchedTicks, []uint64{6, 10}) {
		t.Errorf("per-P queues %v ticks %v; want [1 3] [6 10]", r.LocalRunQueues, r.SchedTicks)
	}
	s := r.Snapshot()
	want := schedstats.GoroutineStates{Total: 5, Running: 1, Runnable: 1, Waiting: 2, NotInGo: 1}
	if s.Goroutines != want || s.Sources.Goroutines != schedstats.SourceSchedtrace {
		t.Errorf("Snapshot().Goroutines = %+v (source %v); want %+v from schedtrace", s.Goroutines, s.Sources.Goroutines, want)
	}
}

func TestParseSchedtraceRealOutput(t *testing.T) {
	for _, file := range []string{"testdata/schedtrace_plain.txt", "testdata/schedtrace_detail.txt"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := schedstats.ParseSchedtrace(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ParseSchedtrace(%s): %v", file, err)
			}
			if want := bytes.Count(data, []byte("SCHED ")); len(recs) != want {
				t.Fatalf("parsed %d records; want %d", len(recs), want)
			}
			for _, r := range recs {
				if r.GOMAXPROCS != 2 || len(r.LocalRunQueues) != 2 || len(r.SchedTicks) != 2 {
					t.Errorf("line %d: gomaxprocs=%d queues=%v ticks=%v; want 2 Ps", r.Line, r.GOMAXPROCS, r.LocalRunQueues, r.SchedTicks)
				}
				if r.Detailed && (len(r.Ps) != 2 || len(r.Ms) == 0 || len(r.Gs) == 0) {
					t.Errorf("line %d: detail Ps=%d Ms=%d Gs=%d", r.Line, len(r.Ps), len(r.Ms), len(r.Gs))
				}
			}
		})
	}
}

func TestParseSchedtraceErrors(t *testing.T) {
	in := strings.Join([]string{
		"SCHED 10ms: gomaxprocs=2 idleprocs=0 threads=4 runqueue=0 [ 0 0 ]",
		"SCHED 20ms: gomaxprocs=x idleprocs=0 threads=4 runqueue=0",
		"hello",
		"SCHED 30ms: gomaxprocs=2 threads=4 runqueue=0",
		"SCHED 40ms: gomaxprocs=2 idleprocs=0 threads=4 runqueue=0 gcwaiting=0",
		"  P0: status=1 schedtick=zz m=nil",
		"  G1: status=4 m=nil",
		"SCHED 50ms: gomaxprocs=2 idleprocs=0 threads=4 runqueue=0 [ 1 2",
		"SCHED 60ms: gomaxprocs=2 idleprocs=0 threads=4 runqueue=0",
	}, "\n")
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(in))
	if len(recs) != 3 {
		t.Errorf("kept %d records; want 3 (10ms, 40ms, 60ms)", len(recs))
	}
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *schedstats.ParseError
		if !errors.As(e, &pe) || !errors.Is(e, schedstats.ErrMalformed) {
			t.Errorf("error %v is not a *ParseError wrapping ErrMalformed", e)
			continue
		}
		lines = append(lines, pe.Line)
	}
	if want := []int{2, 4, 6, 7, 8}; !reflect.DeepEqual(lines, want) {
		t.Errorf("errors on lines %v; want %v (err: %v)", lines, want, err)
	}
}

func TestParseSchedtraceLimits(t *testing.T) {
	long := "SCHED 1ms: gomaxprocs=1 idleprocs=0 threads=1 runqueue=0 " + strings.Repeat("x", schedstats.MaxTraceLine)
	other := strings.Repeat("y", 3*schedstats.MaxTraceLine) // someone else's long line: skipped
	in := other + "\n" + long + "\nSCHED 2ms: gomaxprocs=1 idleprocs=0 threads=1 runqueue=0\n"
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(in))
	if len(recs) != 1 || recs[0].Line != 3 {
		t.Errorf("kept %+v; want only the record on line 3", recs)
	}
	var pe *schedstats.ParseError
	if !errors.Is(err, schedstats.ErrLineTooLong) || !errors.As(err, &pe) || pe.Line != 2 || len(pe.Text) > 200 {
		t.Errorf("err = %v; want ErrLineTooLong on line 2 with a short excerpt", err)
	}

	var b strings.Builder
	line := "SCHED 1ms: gomaxprocs=1 idleprocs=0 threads=1 runqueue=0\n"
	for range schedstats.MaxTraceRecords + 10 {
		b.WriteString(line)
	}
	recs, err = schedstats.ParseSchedtrace(strings.NewReader(b.String()))
	if len(recs) != schedstats.MaxTraceRecords || !errors.Is(err, schedstats.ErrTooManyRecords) {
		t.Errorf("kept %d records, err %v; want %d and ErrTooManyRecords", len(recs), err, schedstats.MaxTraceRecords)
	}
}

type failingReader struct{}

var errBoom = errors.New("boom")

func (failingReader) Read([]byte) (int, error) { return 0, errBoom }

func TestParseSchedtraceReadError(t *testing.T) {
	if _, err := schedstats.ParseSchedtrace(failingReader{}); !errors.Is(err, errBoom) {
		t.Errorf("ParseSchedtrace(failing reader) error = %v; want %v", err, errBoom)
	}
}

func FuzzParseSchedtrace(f *testing.F) {
	for _, file := range []string{"testdata/schedtrace_plain.txt", "testdata/schedtrace_detail.txt"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("SCHED 1ms: gomaxprocs=1 idleprocs=0 threads=1 runqueue=0 [ 0 ] schedticks=[ 1 ]\n"))
	f.Add([]byte("SCHED 1ms: gomaxprocs=1 idleprocs=0 threads=1 runqueue=0 gcwaiting=0\n  G1: status=4(a (b)) m=nil lockedm=nil\n"))
	f.Add([]byte("SCHED ms: [ [ ] ]\n  P: \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := schedstats.ParseSchedtrace(bytes.NewReader(data))
		if len(recs) > schedstats.MaxTraceRecords {
			t.Fatalf("%d records exceed the limit", len(recs))
		}
		if err != nil && !errors.Is(err, schedstats.ErrMalformed) && !errors.Is(err, schedstats.ErrLineTooLong) && !errors.Is(err, schedstats.ErrTooManyRecords) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		for _, r := range recs {
			if r.Line < 1 || r.Uptime < 0 {
				t.Fatalf("record %+v has a bad line or uptime", r)
			}
			_ = r.Snapshot()
		}
	})
}

// TestParseSchedtraceInterleavedDetail checks that a program's output in the
// middle of a detail block does not cut the block short.
func TestParseSchedtraceInterleavedDetail(t *testing.T) {
	in := "SCHED 5ms: gomaxprocs=1 idleprocs=0 threads=2 runqueue=0 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false\n" +
		"  P0: status=1 schedtick=1 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0\n" +
		"request handled in 3ms\n" +
		"  G1: status=2() m=0 lockedm=nil\n"
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(in))
	if err != nil || len(recs) != 1 || len(recs[0].Ps) != 1 || len(recs[0].Gs) != 1 {
		t.Fatalf("ParseSchedtrace = %+v, %v; want one record with 1 P and 1 G", recs, err)
	}
	if g := recs[0].Snapshot().Goroutines; g.Total != 1 || g.Running != 1 {
		t.Errorf("Snapshot().Goroutines = %+v; want 1 running", g)
	}
}

// TestParseSchedtraceDetailLimit checks that detail lines beyond
// MaxTraceDetail are counted, not kept.
func TestParseSchedtraceDetailLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("SCHED 5ms: gomaxprocs=1 idleprocs=0 threads=2 runqueue=0 gcwaiting=false\n")
	for range schedstats.MaxTraceDetail + 7 {
		b.WriteString("  G1: status=4() m=nil lockedm=nil\n")
	}
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(b.String()))
	if err != nil || len(recs) != 1 {
		t.Fatalf("ParseSchedtrace = %d records, %v; want 1, nil", len(recs), err)
	}
	if r := recs[0]; len(r.Gs) != schedstats.MaxTraceDetail || r.Dropped != 7 {
		t.Errorf("kept %d Gs, dropped %d; want %d and 7", len(r.Gs), r.Dropped, schedstats.MaxTraceDetail)
	}
	if s := recs[0].Snapshot(); s.Sources.Goroutines != schedstats.SourceNone {
		t.Errorf("incomplete record filled goroutine states from %v; want none", s.Sources.Goroutines)
	}
}
