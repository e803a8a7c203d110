package probes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// processStart approximates the runtime's start, the zero of schedtrace's
// uptime; package variables are initialised just after it.
var processStart = time.Now()

const helperEnv = "GDIAG_PROBES_HELPER"

// probeLine is what the helper process prints for each reading.
type probeLine struct {
	UptimeMs    int64 `json:"uptimeMs"`
	Load        bool  `json:"load"`
	GOMAXPROCS  int   `json:"gomaxprocs"`
	IdlePs      int   `json:"idlePs"`
	Threads     int   `json:"threads"`
	RunQueue    int   `json:"runQueue"`
	Spinning    int   `json:"spinning"`
	IdleThreads int   `json:"idleThreads"`
	Mode        string
}

// TestHelperProcess is the child of TestAgreesWithSchedtrace; it does
// nothing unless started by it.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "schedtrace" {
		return
	}
	r := processReader()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	var s schedstats.Snapshot
	emit := func(load bool) {
		r.Read(&s)
		enc.Encode(probeLine{UptimeMs: time.Since(processStart).Milliseconds(), Load: load, GOMAXPROCS: s.GOMAXPROCS,
			IdlePs: s.IdlePs, Threads: s.Threads, RunQueue: s.GlobalRunQueue, Spinning: s.SpinningThreads,
			IdleThreads: s.IdleThreads, Mode: r.Status().Mode.String()})
	}
	stop := spin(8 * runtime.GOMAXPROCS(0))
	for range 20 {
		time.Sleep(50 * time.Millisecond)
		emit(true)
	}
	stop()
	for range 6 {
		time.Sleep(100 * time.Millisecond)
		emit(false)
	}
}

// TestAgreesWithSchedtrace runs the helper with GODEBUG=schedtrace=100
// and compares the runtime's own SCHED lines with the probe's readings
// taken in the same process under the same load.
func TestAgreesWithSchedtrace(t *testing.T) {
	if mirrorName == "" {
		t.Skip("no sched mirror for this Go version; TestNewReaderStatus checks the fallback")
	}
	defer goleak.VerifyNone(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=schedtrace", "GODEBUG=schedtrace=100")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\nstderr:\n%s", err, stderr.String())
	}
	var probe []probeLine
	for _, line := range bytes.Split(stdout.Bytes(), []byte("\n")) {
		if len(line) > 0 && line[0] == '{' {
			var p probeLine
			if err := json.Unmarshal(line, &p); err != nil {
				t.Fatalf("helper line %q: %v", line, err)
			}
			probe = append(probe, p)
		}
	}
	recs, err := schedstats.ParseSchedtrace(&stderr)
	if err != nil {
		t.Fatalf("ParseSchedtrace: %v", err)
	}
	if len(probe) < 20 || len(recs) < 15 {
		t.Fatalf("got %d probe readings and %d SCHED lines; want >= 20 and >= 15\nstdout:\n%s", len(probe), len(recs), stdout.String())
	}
	if probe[0].Mode != schedstats.SourceSched.String() && probe[0].Mode != schedstats.SourceDeep.String() {
		t.Fatalf("helper reader mode = %s; want sched or deep", probe[0].Mode)
	}
	// The load window, trimmed so that both sides see steady load.
	var from, to int64 = probe[0].UptimeMs, 0
	for _, p := range probe {
		if p.Load {
			to = p.UptimeMs
		}
	}
	from += 100
	var pLoad, tLoad []int // threads under load, probe and trace
	pIdle0, tIdle0, pQueued, tQueued, tIn := 0, 0, 0, 0, 0
	for _, p := range probe {
		if p.GOMAXPROCS != recs[0].GOMAXPROCS {
			t.Errorf("probe gomaxprocs = %d; schedtrace says %d", p.GOMAXPROCS, recs[0].GOMAXPROCS)
		}
		if p.Load && p.UptimeMs >= from {
			pLoad = append(pLoad, p.Threads)
			pIdle0 += b2i(p.IdlePs == 0)
			pQueued += b2i(p.RunQueue > 0)
		}
	}
	for _, r := range recs {
		if r.GOMAXPROCS != recs[0].GOMAXPROCS {
			t.Errorf("schedtrace gomaxprocs changed: %d then %d", recs[0].GOMAXPROCS, r.GOMAXPROCS)
		}
		if ms := r.Uptime.Milliseconds(); ms >= from && ms <= to {
			tIn++
			tLoad = append(tLoad, r.Threads)
			tIdle0 += b2i(r.IdleProcs == 0)
			tQueued += b2i(r.RunQueue > 0)
		}
	}
	t.Logf("under load: probe %d readings (idle Ps 0 in %d, run queue > 0 in %d, threads %v); schedtrace %d lines (idleprocs 0 in %d, runqueue > 0 in %d, threads %v)",
		len(pLoad), pIdle0, pQueued, pLoad, tIn, tIdle0, tQueued, tLoad)
	if tIn < 5 || len(pLoad) < 5 {
		t.Fatalf("load window [%d, %d] ms holds %d SCHED lines and %d readings; want >= 5 each", from, to, tIn, len(pLoad))
	}
	for name, got := range map[string][2]int{"probe IdlePs == 0": {pIdle0, len(pLoad)}, "schedtrace idleprocs=0": {tIdle0, tIn}} {
		if got[0] < got[1]*8/10 {
			t.Errorf("%s in %d of %d samples under load; want >= 80%%", name, got[0], got[1])
		}
	}
	if pQueued == 0 || tQueued == 0 {
		t.Errorf("global run queue > 0 under load: probe %d, schedtrace %d samples; want > 0 in both", pQueued, tQueued)
	}
	if pm, tm := median(pLoad), median(tLoad); pm-tm > 2 || tm-pm > 2 {
		t.Errorf("median threads under load: probe %d, schedtrace %d; want within 2", pm, tm)
	}
	// After the load, every P goes idle (the reader does not count its own); a timer or
	// a spinning M may briefly hold another, so one reading suffices.
	idle := false
	for _, p := range probe {
		idle = idle || !p.Load && p.IdlePs == p.GOMAXPROCS
	}
	if !idle {
		t.Errorf("after load: no reading with IdlePs = GOMAXPROCS (the reader does not count itself): %+v", probe[len(probe)-6:])
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func median(xs []int) int {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
