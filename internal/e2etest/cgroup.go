package e2etest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var cgroupSeq atomic.Int64

// CPUCgroup makes a cgroup whose CPU quota is quota CPUs (a 100 ms
// period), in the cgroup v1 cpu hierarchy when it is mounted, else in
// cgroup v2 with the cpu controller, and returns its directory and
// version. The cgroup is removed at the end of the test, after the
// processes moved into it (with MoveToCgroup) are gone: register their
// cleanup after calling CPUCgroup, as cleanups run last-in first-out.
// Making one needs root; without root or a usable hierarchy it calls
// Unavailable.
func CPUCgroup(t testing.TB, quota float64) (string, int) {
	t.Helper()
	RequireRoot(t, "making a cgroup needs root (CI runs as root)")
	name := fmt.Sprintf("gdiag-test-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	var dir string
	var version int
	v1 := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(v1, "cpu.cfs_quota_us")); err == nil {
		dir, version = filepath.Join(v1, name), 1
	} else if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && strings.Contains(string(b), "cpu") {
		dir, version = filepath.Join("/sys/fs/cgroup", name), 2
	} else {
		Unavailable(t, "no writable cgroup v1 cpu hierarchy or cgroup v2 with the cpu controller")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		Unavailable(t, "mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s could not be removed", dir)
		}
	})
	us := strconv.Itoa(int(quota * 100000))
	var err error
	if version == 1 {
		err = os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte("100000"), 0)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(us), 0)
		}
	} else {
		err = os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(us+" 100000"), 0)
	}
	if err != nil {
		t.Fatalf("setting the quota of %s: %v", dir, err)
	}
	return dir, version
}

// MoveToCgroup moves the process pid (all its threads) into the cgroup
// at dir.
func MoveToCgroup(t testing.TB, dir string, pid int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("moving %d into %s: %v", pid, dir, err)
	}
}
