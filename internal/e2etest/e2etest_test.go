package e2etest_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestProcLinesAndStop(t *testing.T) {
	// The shell prints on both streams, then waits for SIGTERM.
	p := e2etest.StartT(t, "sh", exec.Command("sh", "-c", `trap 'echo bye; exit 0' TERM; echo one; echo two >&2; echo three; while :; do sleep 0.05; done`))
	l, err := p.WaitPrefix(e2etest.Stdout, time.Minute, "thr")
	if err != nil || l != "three" {
		t.Fatalf("WaitPrefix(stdout, thr) = %q, %v; want three", l, err)
	}
	// A line printed before the call counts.
	if l, err := p.WaitLine(e2etest.Stderr, time.Minute, func(s string) bool { return s == "two" }); err != nil || l != "two" {
		t.Errorf("WaitLine(stderr, two) = %q, %v; want two", l, err)
	}
	if err := p.Stop(time.Minute); err != nil {
		t.Errorf("Stop = %v; want a clean exit on SIGTERM", err)
	}
	if got := p.Lines(e2etest.Stdout); strings.Join(got, ",") != "one,three,bye" {
		t.Errorf("Lines(stdout) = %q; want one, three, bye", got)
	}
	if err := p.Stop(time.Minute); err != nil {
		t.Errorf("second Stop = %v; want the same nil", err)
	}
}

func TestProcKilledAfterGrace(t *testing.T) {
	p := e2etest.StartT(t, "sh", exec.Command("sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`))
	if _, err := p.WaitPrefix(e2etest.Stdout, time.Minute, "ready"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(200 * time.Millisecond); !errors.Is(err, e2etest.ErrKilled) {
		t.Errorf("Stop of a process that ignores SIGTERM = %v; want ErrKilled", err)
	}
}

func TestWaitLineExit(t *testing.T) {
	p := e2etest.StartT(t, "sh", exec.Command("sh", "-c", `echo nothing useful; exit 3`))
	_, err := p.WaitPrefix(e2etest.Stdout, time.Minute, "ready")
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "nothing useful") {
		t.Errorf("WaitPrefix on a process that exits = %v; want an error saying it exited, with its output", err)
	}
	if err := p.Err(); err == nil {
		t.Errorf("Err() = nil; want exit status 3")
	}
}

func TestRaces(t *testing.T) {
	// Start, not StartT: StartT's cleanup would fail this test on the report.
	p, err := e2etest.Start("sh", exec.Command("sh", "-c", `echo ok; echo "==================" >&2; echo "WARNING: DATA RACE" >&2; echo "Write at 0x00c by goroutine 7:" >&2`))
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	p.Stop(time.Minute)
	if r := p.Races(); !strings.HasPrefix(r, "WARNING: DATA RACE\nWrite at") {
		t.Errorf("Races() = %q; want the report", r)
	}
	if !e2etest.HasRace(p.Output()) {
		t.Errorf("HasRace(Output()) = false; want true")
	}
}
