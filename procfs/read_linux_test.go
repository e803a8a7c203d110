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
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
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
	return e2etest.CPUCgroup(t, 0.1)
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
		// Both ends are this process's: two more established sockets, one
		// of them accepted on its listener.
		if after.Established != before.Established+2 || after.Inbound != before.Inbound+1 || after.Listening < 1 || after.Total < before.Total+2 {
			t.Errorf("Sockets before %+v, after a connection %+v; want +2 established, +1 inbound, a listener", before, after)
		}
		c.Close()
		s.Close()
		ln.Close()
		if _, err := ListenerPID(port); err != ErrNoListener {
			t.Errorf("ListenerPID(%d) after Close = %v; want ErrNoListener", port, err)
		}
	}
}

// TestStartTime: this test process started before now and after the test
// binary was built, within the 10 ms the kernel counts in.
func TestStartTime(t *testing.T) {
	st, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	// btime is whole seconds, so allow a second either side.
	if st.After(time.Now().Add(time.Second)) || st.Before(fi.ModTime().Add(-time.Second)) {
		t.Errorf("StartTime(self) = %v; want between the binary's build %v and now", st, fi.ModTime())
	}
}
