package probes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/internal/e2etest"
	"go.uber.org/goleak"
)

const osTargetEnv = "GDIAG_TEST_OS_TARGET"

// TestOSTargetHelper is the target of TestOSViewOverTCP: it burns two
// threads' worth of CPU with the agent on token TCP, prints its address
// and token, and runs until its stdin closes.
func TestOSTargetHelper(t *testing.T) {
	dir := os.Getenv(osTargetEnv)
	if dir == "" {
		return
	}
	var stop atomic.Bool
	for range 2 {
		go func() {
			for x := 0; !stop.Load(); x++ {
			}
		}()
	}
	a, err := Start(Options{Dir: dir, TCPAddr: "127.0.0.1:0", Interval: 200 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	fmt.Printf("READY %s %s\n", a.Addr(), a.Token())
	io.Copy(io.Discard, os.Stdin)
	stop.Store(true)
	a.Close()
	os.Exit(0)
}

// TestOSViewOverTCP: a client that cannot read the target's /proc (here:
// one that only has its TCP address and token) sees what the kernel says
// of the target's CPU through /v1/os: a target held to 0.1 CPU by its
// cgroup's quota reads the quota, throttled periods, and about 0.1 cores
// used while it wants two.
func TestOSViewOverTCP(t *testing.T) {
	dir, _ := e2etest.CPUCgroup(t, 0.1)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOSTargetHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), osTargetEnv+"="+filepath.Join(shortTempDir(t), "rt"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	e2etest.MoveToCgroup(t, dir, cmd.Process.Pid)
	var addr, token string
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if _, err := fmt.Sscanf(line, "READY %s %s", &addr, &token); err != nil {
		t.Fatalf("target said %q", line)
	}
	c, err := apiv1.NewClient(addr, apiv1.ClientOptions{Token: token, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var v apiv1.OS
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if v, err = c.OS(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v.Rates.Throttled > 0 && v.Rates.Seconds >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no throttled period in a minute: %+v", v)
		}
	}
	if v.Sample.PID != cmd.Process.Pid || v.GOMAXPROCS < 1 {
		t.Errorf("/v1/os pid %d, GOMAXPROCS %d; want the target's pid %d", v.Sample.PID, v.GOMAXPROCS, cmd.Process.Pid)
	}
	if v.Rates.Quota != 0.1 || v.Sample.Cgroup.Path != dir {
		t.Errorf("/v1/os quota %v in %q; want 0.1 in %s", v.Rates.Quota, v.Sample.Cgroup.Path, dir)
	}
	if v.Rates.CPU <= 0 || v.Rates.CPU > 0.3 || v.Rates.HostCPUs < 1 {
		t.Errorf("/v1/os rates %+v; want about 0.1 cores used and the host's CPUs", v.Rates)
	}
}

// TestOSViewHandler: Handler, with no sampler to keep readings fresh,
// takes two readings a second apart for a request.
func TestOSViewHandler(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := Handler(HandlerOptions{})
	rec := get(t, h, "/v1/os")
	if rec.Code != 200 {
		t.Fatalf("GET /v1/os = %d %s", rec.Code, rec.Body.String())
	}
	var v apiv1.OS
	decode(t, rec, &v)
	if v.Sample.PID != os.Getpid() || v.Rates.Seconds < 0.9 || v.Sample.Threads < 1 || v.Rates.HostCPUs < 1 {
		t.Errorf("GET /v1/os = %+v; want this process over a second", v)
	}
}
