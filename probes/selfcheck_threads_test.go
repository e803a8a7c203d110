package probes

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

const manyThreadsEnv = "GDIAG_TEST_MANY_THREADS"

// manyThreads is more OS threads than the runtime's default limit of
// 10,000, which the self-check must never lower the limit below.
const manyThreads = 10100

// TestManyThreadsHelper is the child half of TestSelfCheckManyThreads: it
// raises the thread limit as such a program must, holds manyThreads
// threads (each goroutine locked to its own thread and blocked), then runs
// the first Read, with its self-check, and prints what it read.
func TestManyThreadsHelper(t *testing.T) {
	if os.Getenv(manyThreadsEnv) == "" {
		return // not the child
	}
	debug.SetMaxThreads(4 * manyThreads)
	block := make(chan struct{})
	for range manyThreads {
		go func() {
			runtime.LockOSThread()
			<-block
		}()
	}
	s := []metrics.Sample{{Name: "/sched/threads/total:threads"}}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		metrics.Read(s)
		if s[0].Value.Uint64() > manyThreads {
			break
		}
		if time.Now().After(deadline) {
			fmt.Printf("only %d threads after 2 minutes\n", s[0].Value.Uint64())
			os.Exit(4)
		}
	}
	var snap schedstats.Snapshot
	Read(&snap)
	fmt.Printf("READ-OK threads=%d limit=%d\n", snap.Threads, debug.SetMaxThreads(4*manyThreads))
	os.Exit(0)
}

// TestSelfCheckManyThreads: the self-check reads the thread limit through
// debug.SetMaxThreads. Setting it to 10,000, even for a moment, kills a
// process that runs more threads than that ("program exceeds
// 10000-thread limit"), so the check must read it without lowering it.
func TestSelfCheckManyThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process with 10,100 threads")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestManyThreadsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), manyThreadsEnv+"=1", "GORACE=halt_on_error=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "READ-OK") {
		if len(out) > 2000 {
			out = out[:2000]
		}
		t.Fatalf("a process with %d threads died or failed in its first Read: %v\n%s", manyThreads, err, out)
	}
	if want := fmt.Sprintf("limit=%d", 4*manyThreads); !strings.Contains(string(out), want) {
		t.Errorf("child output %q; want the thread limit it set restored (%s)", out, want)
	}
}
