//go:build linux

package procfs

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// childEnv makes the test binary a CPU burner: GDIAG_PROCFS_BURN=N runs
// N goroutines that spin until the process is killed.
const childEnv = "GDIAG_PROCFS_BURN"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		n, _ := strconv.Atoi(v)
		runtime.GOMAXPROCS(n)
		for range n - 1 {
			go spin()
		}
		spin()
	}
	goleak.VerifyTestMain(m)
}

func spin() {
	x := 0
	for {
		x++
	}
}

// startBurner starts a child that keeps n threads busy, and kills it at
// the end of the test.
func startBurner(t *testing.T, n int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", childEnv, n))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// waitFor reads pid until ok holds for the difference from the first
// reading, or fails after limit. Conditions, not sleeps: a busy host only
// makes it take longer.
func waitFor(t *testing.T, pid int, limit time.Duration, what string, ok func(a, b Sample) bool) (Sample, Sample) {
	t.Helper()
	a, err := Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	for {
		time.Sleep(100 * time.Millisecond)
		b, err := Read(pid)
		if err != nil {
			t.Fatal(err)
		}
		if ok(a, b) {
			return a, b
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s never held; first %+v, last %+v", limit, what, a, b)
		}
	}
}

// TestReadBurningChild reads a child that keeps 4 threads busy on this
// host's CPUs: its CPU time grows, and, with more threads than CPUs,
// its threads wait runnable (run delay).
func TestReadBurningChild(t *testing.T) {
	cpus := runtime.NumCPU()
	cmd := startBurner(t, 2*cpus)
	a, b := waitFor(t, cmd.Process.Pid, time.Minute, "1 s of CPU used and run delay", func(a, b Sample) bool {
		return b.CPU-a.CPU >= time.Second && b.RunDelay > a.RunDelay
	})
	r := Diff(a, b)
	if r.CPU <= 0 || r.CPU > float64(b.Host.CPUs)+0.5 {
		t.Errorf("Diff CPU = %.2f cores; want above 0 and at most the host's %d CPUs", r.CPU, b.Host.CPUs)
	}
	if r.RunDelay <= 0 {
		t.Errorf("Diff RunDelay = %v; want above 0 with %d busy threads on %d CPUs", r.RunDelay, 2*cpus, cpus)
	}
	if b.Threads < 2*cpus || b.Host.CPUs < 1 || b.CPUsAllowed < 1 || b.Host.Total <= 0 {
		t.Errorf("Read = %+v; want ≥%d threads, host CPUs, CPUs allowed and host time", b, 2*cpus)
	}
	if len(b.Unavailable) > 0 {
		t.Errorf("Read unavailable parts: %q", b.Unavailable)
	}
}

func TestReadNoProcess(t *testing.T) {
	if _, err := Read(1 << 30); err == nil {
		t.Error("Read(no such pid) = nil error; want one")
	}
}

// TestCgroupThrottled puts a burning child into a new cgroup with a
// quota of 0.1 CPU and reads the quota and the throttling back. It needs
// root; under GDIAG_E2E=1 (CI, which runs as root) it fails without.
func TestCgroupThrottled(t *testing.T) {
	dir, version := newCgroup(t)
	cmd := startBurner(t, 2)
	pid := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("moving the child into %s: %v", dir, err)
	}
	a, b := waitFor(t, pid, time.Minute, "10 throttled periods", func(a, b Sample) bool {
		return b.Cgroup.Throttled >= a.Cgroup.Throttled+10
	})
	if b.Cgroup.Path != dir || b.Cgroup.Version != version {
		t.Errorf("Cgroup path, version = %q, %d; want %q, %d", b.Cgroup.Path, b.Cgroup.Version, dir, version)
	}
	if b.Cgroup.Quota != 0.1 {
		t.Errorf("Cgroup.Quota = %v; want 0.1", b.Cgroup.Quota)
	}
	r := Diff(a, b)
	if r.Throttled == 0 || r.Periods < r.Throttled || r.ThrottledTime <= 0 {
		t.Errorf("Diff = %+v; want throttled periods and time", r)
	}
	if r.UsableCPUs() != 0.1 {
		t.Errorf("UsableCPUs = %v; want the quota, 0.1", r.UsableCPUs())
	}
}

// newCgroup makes a cgroup limited to 0.1 CPU, removed at the end of the
// test (after the child is killed: Cleanup runs last-in first-out).
func newCgroup(t *testing.T) (string, int) {
	t.Helper()
	e2e := os.Getenv("GDIAG_E2E") == "1"
	fail := t.Skipf
	if e2e {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("making a cgroup needs root (CI runs as root)")
	}
	name := fmt.Sprintf("gdiag-procfs-test-%d", os.Getpid())
	var dir string
	var version int
	v1 := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(v1, "cpu.cfs_quota_us")); err == nil {
		dir, version = filepath.Join(v1, name), 1
	} else if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && strings.Contains(string(b), "cpu") {
		dir, version = filepath.Join("/sys/fs/cgroup", name), 2
	} else {
		fail("no writable cgroup v1 cpu hierarchy or cgroup v2 with the cpu controller")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		fail("mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() {
		// The child is killed by a cleanup registered later, which runs first.
		deadline := time.Now().Add(10 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s could not be removed", dir)
		}
	})
	var err error
	if version == 1 {
		err = os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte("100000"), 0)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte("10000"), 0)
		}
	} else {
		err = os.WriteFile(filepath.Join(dir, "cpu.max"), []byte("10000 100000"), 0)
	}
	if err != nil {
		t.Fatalf("setting the quota of %s: %v", dir, err)
	}
	return dir, version
}

// TestListenerAndSockets listens on loopback in this process, IPv4 and,
// where the host has it, IPv6, and finds itself by port; a connection
// shows as established sockets.
func TestListenerAndSockets(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := "127.0.0.1:0"
		if network == "tcp6" {
			addr = "[::1]:0"
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			if network == "tcp6" {
				continue // no IPv6 on this host
			}
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pid, err := ListenerPID(port)
		if err != nil || pid != os.Getpid() {
			t.Errorf("ListenerPID(%d) (%s) = %d, %v; want %d", port, network, pid, err, os.Getpid())
		}
		before, err := Sockets(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		after, err := Sockets(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		// Both ends are this process's: two more established sockets.
		if after.Established != before.Established+2 || after.Listening < 1 || after.Total < before.Total+2 {
			t.Errorf("Sockets before %+v, after a connection %+v; want +2 established, a listener", before, after)
		}
		c.Close()
		s.Close()
		ln.Close()
		if _, err := ListenerPID(port); err != ErrNoListener {
			t.Errorf("ListenerPID(%d) after Close = %v; want ErrNoListener", port, err)
		}
	}
}
