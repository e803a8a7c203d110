package main_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// checkPreempt: the preempt incident (a loop without calls under
// GODEBUG=asyncpreemptoff=1, in main.reprice) is named with its function,
// and the finding says that asynchronous preemption is off and what to do.
// The stw incident, whose pauses are long for the work done while
// stopped, keeps stw-pauses.
func checkPreempt(t *testing.T, rep doctorReport) {
	f, _ := finding(rep, "preemption-delay")
	if !strings.Contains(f.Title, "main.reprice") || len(f.Functions) == 0 || f.Functions[0].Name != "main.reprice" {
		t.Errorf("preemption-delay finding names %q, functions %+v; want main.reprice", f.Title, f.Functions)
	}
	if !strings.Contains(f.Summary, "Asynchronous preemption is off") || !strings.Contains(f.Summary, "drop asyncpreemptoff") {
		t.Errorf("preemption-delay summary %q; want it to say asyncpreemptoff is set and what to do", f.Summary)
	}
	off := false
	for _, e := range f.Evidence {
		off = off || e.Name == "asyncpreemptoff" && e.Value == 1
	}
	if !off {
		t.Errorf("preemption-delay evidence %+v; want asyncpreemptoff 1", f.Evidence)
	}
}

// heldOut are programs written apart from the preempt incident, which
// doctor's rule was built on (cmd/gdiag/testdata/preempt): other loop
// shapes, GOMAXPROCS, a non-preemptible runtime call, no agent, and stops
// of the world for other reasons.
var heldOut = []struct {
	program string
	env     []string
	pprof   bool   // run without the agent, net/http/pprof only
	want    string // "preemption-delay" first, "-" never preemption-delay, "" only logged
	names   string // the function the finding must name
}{
	// Two workers in an integer loop without calls every 400ms, 4 Ps: the
	// world waits for them most of the time.
	{"procs4", []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=4"}, false, "preemption-delay", "main.primes"},
	// The runtime's memhash over 512 MiB cannot be preempted, but lasts
	// about 20ms: under the 50ms a finding needs. A busy host stretches
	// some stops past it, with the goroutine off the CPU: not claimed.
	{"hash", nil, false, "-", ""},
	// A loop without calls over a slice, a few tens of ms every 500ms, in
	// short-lived goroutines: few stops overlap it, some windows have two.
	{"slice", []string{"GODEBUG=asyncpreemptoff=1"}, false, "", ""},
	// A 384 MiB memmove back to back, seen through net/http/pprof only: the
	// huge live heap makes collections, and so pauses, rare.
	{"memmove", nil, true, "", ""},
	// Many short stops for other reasons: ReadMemStats in a loop and
	// GOMAXPROCS flipped every 10ms. A busy host can stretch some past
	// 50ms, stw-pauses' business; never a preemption delay.
	{"storms", nil, false, "-", ""},
}

// TestDoctorPreemptHeldOut runs gdiag doctor on each held-out program and
// checks what can be expected of it; the verdicts on the others are
// logged, as measurements.
func TestDoctorPreemptHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 5 programs for about 25 s each; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the test's expectations (GODEBUG read from /proc) need Linux")
	}
	for _, c := range heldOut {
		t.Run(c.program, func(t *testing.T) {
			built, err := e2etest.BuildWith(e2etest.Plain, "./cmd/gdiag/testdata/preempt/"+c.program)
			if err != nil {
				t.Fatal(err)
			}
			bin := built[0]
			// The programs take the incident programs' flags and print
			// their ready line; their environment is the test's, set for
			// the start only, so that gdiag itself runs without it.
			env := c.env
			if c.pprof {
				env = append(env, "GDIAG_HELDOUT_PPROF=1")
			}
			p := withEnv(t, env, func() *incident { return startIncident(t, bin, c.program) })
			time.Sleep(incidentWarmUp) // not an assertion: the fault needs time to show
			spec := strconv.Itoa(p.pid)
			if c.pprof {
				url, err := os.ReadFile(filepath.Join(p.dir, "pprof-url"))
				if err != nil {
					t.Fatal(err)
				}
				spec = string(url)
			}
			r := gdiag(t, p.dir, "doctor", spec, "--window", doctorWindow, "--json")
			var rep doctorReport
			decodeJSON(t, r, &rep)
			t.Logf("%s: exit %d, findings %s", c.program, r.Code, causes(rep))
			for _, f := range rep.Findings {
				t.Logf("  %s: %s", f.Title, f.Summary)
			}
			switch c.want {
			case "preemption-delay":
				if len(rep.Findings) == 0 || rep.Findings[0].Cause != c.want || !strings.Contains(rep.Findings[0].Title, c.names) {
					t.Errorf("doctor on %s: findings %s; want preemption-delay first, naming %s\n%s", c.program, causes(rep), c.names, r)
				}
			case "-":
				for _, f := range rep.Findings {
					if f.Cause == "preemption-delay" {
						t.Errorf("doctor on %s: findings %s; want no preemption-delay\n%s", c.program, causes(rep), r)
					}
				}
			}
		})
	}
}

// withEnv runs f with the environment variables env (KEY=VALUE) set, and
// restores them afterwards.
func withEnv[T any](t *testing.T, env []string, f func() T) T {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	return f()
}
