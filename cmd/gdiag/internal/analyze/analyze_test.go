package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

const schedData = "../../../../schedstats/testdata"

func TestDetect(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(schedData, "schedtrace_plain.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		head string
		want Kind
	}{
		{"schedtrace", string(plain), Schedtrace},
		{"schedtrace after logs", "starting server\nlistening\n" + string(plain), Schedtrace},
		{"dump", "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n", Goroutines},
		{"crash", "panic: boom\n\ngoroutine 7 [running]:\nmain.f()\n", Goroutines},
		{"dump 1.26 header", "goroutine 1 gp=0xc000002380 m=0 mp=0x5d7ec0 [running]:\n", Goroutines},
		{"dump 1.26 header without an m", "log line\ngoroutine 2 gp=0x38cda1baa780 m=nil [force gc (idle)]:\n", Goroutines},
		{"crash, goroutines beyond the head", "2026/11/29 server: starting\nfatal error: concurrent map writes\n", Goroutines},
		{"GOTRACEBACK=none", "panic: boom\n", Goroutines},
		{"SIGQUIT", "SIGQUIT: quit\nPC=0x4723a1 m=0 sigcode=0\n", Goroutines},
		{"log line mentioning a panic", "2026/11/29 handler: panic: boom\n", Unknown},
		{"gzip profile", "\x1f\x8b\x08\x00", Profile},
		{"raw profile", "\x0a\x04\x08\x01\x10\x02", Profile},
		{"trace", "go 1.26 trace\x00\x00\x00\x01", Trace},
		{"text", "hello world\n", Unknown},
		{"empty line", "\n\n", Unknown},
	}
	for _, c := range cases {
		if got := Detect([]byte(c.head)); got != c.want {
			t.Errorf("Detect(%s) = %q; want %q", c.name, got, c.want)
		}
	}
}

func env() (*cli.Env, *bytes.Buffer) {
	var out bytes.Buffer
	return &cli.Env{Stdout: &out, Stderr: io.Discard}, &out
}

func TestSchedtrace(t *testing.T) {
	for _, name := range []string{"schedtrace_plain.txt", "schedtrace_detail.txt"} {
		e, out := env()
		// Both logs are of a process with a backlog throughout: exit 1.
		if err := run(context.Background(), e, Analyzers{}, filepath.Join(schedData, name), "auto"); err != cli.Findings {
			t.Fatalf("analyze %s = %v; want cli.Findings", name, err)
		}
		for _, want := range []string{"schedtrace,", "GOMAXPROCS", "runnable per P", "phases", "verdict: run-queue backlog throughout"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("analyze %s output lacks %q:\n%s", name, want, out)
			}
		}
	}
}

func TestSummariseBacklog(t *testing.T) {
	var log strings.Builder
	for i := range 10 {
		log.WriteString("SCHED " + strconv.Itoa(i*1000) + "ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 idlethreads=1 runqueue=9 [ 3 4 ] schedticks=[ 1 2 ]\n")
	}
	e, out := env()
	e.JSON = true
	f := filepath.Join(t.TempDir(), "sched.log")
	os.WriteFile(f, []byte(log.String()), 0o600)
	if err := run(context.Background(), e, Analyzers{}, f, "auto"); err != cli.Findings {
		t.Fatalf("analyze = %v; want cli.Findings", err)
	}
	// 16 runnable on 2 Ps in every record: 8 per P, all above 2.
	for _, want := range []string{`"records": 10`, `"backlogPercent": 100`, `"mean": 8`, "run-queue backlog"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("JSON lacks %q:\n%s", want, out)
		}
	}
}

// TestSchedtracePhase reads a real log (testdata/schedload: 30 s quiet,
// 3 s with 16 CPU-bound goroutines per P, 30 s quiet, sampled every
// 100 ms): the 3 s must read as a backlog phase with its time, and exit 1,
// not as "occasional backlog" in 5% of the records.
func TestSchedtracePhase(t *testing.T) {
	e, out := env()
	err := run(context.Background(), e, Analyzers{}, "testdata/schedtrace-phase.txt", "auto")
	if err != cli.Findings {
		t.Errorf("analyze schedtrace-phase.txt = %v; want cli.Findings (exit 1)", err)
	}
	if want := "verdict: run-queue backlog for 2.977s, from 30.037s to 33.014s of a 1m2.958s log"; !strings.Contains(out.String(), want) {
		t.Errorf("analyze schedtrace-phase.txt lacks %q:\n%s", want, out)
	}
	row := false
	for _, l := range strings.Split(out.String(), "\n") {
		row = row || strings.Join(strings.Fields(l), " ") == "30s 33s 2.977s backlog 15.0 15 0.0 4-4"
	}
	if !row {
		t.Errorf("analyze schedtrace-phase.txt has no phase row 30s to 33s, backlog:\n%s", out)
	}
	e.JSON = true
	out.Reset()
	run(context.Background(), e, Analyzers{}, "testdata/schedtrace-phase.txt", "auto")
	var s SchedSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	states := []string{}
	for _, p := range s.Phases {
		states = append(states, p.State)
	}
	if strings.Join(states, ",") != "spare,backlog,spare" || !s.Problem || s.BacklogSeconds < 2.5 || s.BacklogSeconds > 3.5 {
		t.Errorf("phases %v, problem %v, backlog %.1fs; want spare,backlog,spare, a problem and about 3 s", states, s.Problem, s.BacklogSeconds)
	}
}

// TestSchedtraceBlips checks that isolated records over the threshold
// make no phase and no problem: exit 0.
func TestSchedtraceBlips(t *testing.T) {
	var log strings.Builder
	for i := range 100 {
		run := 0
		if i%10 == 5 {
			run = 12
		}
		fmt.Fprintf(&log, "SCHED %dms: gomaxprocs=2 idleprocs=1 threads=5 spinningthreads=0 needspinning=0 idlethreads=1 runqueue=%d [ 0 0 ] schedticks=[ 1 2 ]\n", i*100, run)
	}
	f := filepath.Join(t.TempDir(), "blips.log")
	os.WriteFile(f, []byte(log.String()), 0o600)
	e, out := env()
	if err := run(context.Background(), e, Analyzers{}, f, "auto"); err != nil {
		t.Errorf("analyze blips = %v; want nil (exit 0)", err)
	}
	if !strings.Contains(out.String(), "verdict: no run-queue backlog phase: runnable per P above 2 in 10% of the records") {
		t.Errorf("analyze blips:\n%s", out)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"empty":   "",
		"garbage": "\x00\x01 not anything",
		"sched":   "SCHED 1ms: gomaxprocs=two idleprocs=\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o600)
		e, _ := env()
		err := run(context.Background(), e, Analyzers{}, p, "auto")
		var ce *cli.Error
		if !errors.As(err, &ce) || ce.Code != cli.ExitInput {
			t.Errorf("analyze %s = %v; want an input error (exit 5)", name, err)
		}
	}
	e, _ := env()
	if err := run(context.Background(), e, Analyzers{}, filepath.Join(dir, "missing"), "auto"); err == nil {
		t.Error("analyze of a missing file succeeded")
	}
	if err := run(context.Background(), e, Analyzers{}, dir, "auto"); err == nil {
		t.Error("analyze of a directory succeeded")
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, name := range []string{"schedtrace_plain.txt", "schedtrace_detail.txt"} {
		b, _ := os.ReadFile(filepath.Join(schedData, name))
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("goroutine 1 [running]:\n"))
	f.Add([]byte("\x1f\x8b"))
	for _, name := range []string{"gotest-timeout.txt", "sigquit-crasher.txt", "panic-index-none.txt"} {
		b, err := os.ReadFile(filepath.Join("../../../../testdata/crash", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		e, _ := env()
		e.JSON = len(data)%2 == 0
		_ = run(context.Background(), e, Analyzers{}, p, "auto") // must not panic or hang
	})
}
