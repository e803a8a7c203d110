package main_test

// The end-to-end doctor cases that need more than a program: a cgroup
// with a CPU quota, a CPU hog beside the target, and real third-party
// servers from Debian's packages.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// throttledQuota is the CPU quota of the throttled case's cgroup, in CPUs:
// half of what the shared load needs.
const throttledQuota = 0.1

// requireE2E skips a case that lacks what it needs, or fails it under
// GDIAG_E2E=1 (CI, which runs as root with every tool installed).
func requireE2E(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("GDIAG_E2E") == "1" {
		t.Fatalf(format+" (GDIAG_E2E=1: scripts/setup installs what the end-to-end tests need, and CI runs as root)", args...)
	}
	t.Skipf(format, args...)
}

// startThrottled starts the throttled program and moves it into a new
// cgroup whose quota is throttledQuota CPU; the cgroup is removed after
// the program stops. The program runs at nice -5, so that on a test
// machine busy with other work the quota, the fault under test, is what
// holds it back, not the other processes.
func startThrottled(t *testing.T, bins string) *doctorTarget {
	requireE2E(t, os.Geteuid() == 0, "the throttled case makes a cgroup, which needs root")
	dir, version := cgroupWithQuota(t, fmt.Sprintf("gdiag-e2e-%d", os.Getpid()), throttledQuota)
	p := startIncident(t, filepath.Join(bins, "throttled"), "throttled", "nice", "-n", "-5")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(p.pid)), 0); err != nil {
		t.Fatalf("moving pid %d into %s (cgroup v%d): %v", p.pid, dir, version, err)
	}
	return p.target()
}

// cgroupWithQuota makes a cgroup limited to quota CPUs (v1's cpu
// hierarchy, else v2 with the cpu controller) and removes it at the end of
// the test, once its processes are gone.
func cgroupWithQuota(t *testing.T, name string, quota float64) (string, int) {
	t.Helper()
	const period = 100000
	q := []byte(strconv.Itoa(int(quota * period)))
	var dir string
	var version int
	var err error
	if _, e := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); e == nil {
		dir, version = filepath.Join("/sys/fs/cgroup/cpu", name), 1
	} else if b, e := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); e == nil && strings.Contains(string(b), "cpu") {
		dir, version = filepath.Join("/sys/fs/cgroup", name), 2
	} else {
		requireE2E(t, false, "no cgroup v1 cpu hierarchy and no cgroup v2 with the cpu controller")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	// Registered first, so it runs after the program's own cleanup.
	t.Cleanup(func() {
		deadline := time.Now().Add(20 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s could not be removed", dir)
		}
	})
	// A heavy weight lets the group reach its quota on a shared test
	// machine, where other work would otherwise keep it below: the quota
	// under test, not the host's load, should decide what it gets (the
	// cgroup's counterpart of favoured's nice -5).
	if version == 1 {
		if err = os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(strconv.Itoa(period)), 0); err == nil {
			err = os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), q, 0)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "cpu.shares"), []byte("10240"), 0)
		}
	} else {
		err = os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(string(q)+" "+strconv.Itoa(period)), 0)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "cpu.weight"), []byte("1000"), 0)
		}
	}
	if err != nil {
		t.Fatalf("setting the quota of %s: %v", dir, err)
	}
	return dir, version
}

// startContended starts a CPU hog on every CPU at nice -10 and the
// contended program at nice 10 beside it.
func startContended(t *testing.T, bins string) *doctorTarget {
	requireE2E(t, os.Geteuid() == 0, "the contended case runs a hog at nice -10, which needs root")
	hog := exec.Command("nice", "-n", "-10", filepath.Join(bins, "hog"), "-duration", "2m")
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hog.Process.Kill(); hog.Wait() })
	return startIncident(t, filepath.Join(bins, "contended"), "contended", "nice", "-n", "10").target()
}

// startPprofGC starts the pprof-only GC program; doctor gets its URL.
func startPprofGC(t *testing.T, bins string) *doctorTarget {
	p := startIncident(t, filepath.Join(bins, "pprofgc"), "pprofgc", favoured()...)
	f := strings.Fields(p.first)
	if len(f) != 6 || !strings.HasPrefix(f[5], "http://") {
		t.Fatalf("pprofgc printed %q; want a URL last", p.first)
	}
	return &doctorTarget{spec: f[5], pid: p.pid, stderr: p.stderr.String}
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts a third-party server, waits until ready answers 200
// and stops it at the end of the test.
func startServer(t *testing.T, env []string, ready string, name string, args ...string) (*exec.Cmd, *syncText) {
	t.Helper()
	path, err := exec.LookPath(name)
	requireE2E(t, err == nil, "%s is not installed (scripts/setup installs it)", name)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	out := new(syncText)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s within 60 s: %v\n%s", name, ready, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startPrometheus runs Debian's Prometheus on loopback with a temporary
// data directory, scraping itself every second. With load it runs with
// GOGC=5 under two clients that send range queries over every series
// without pause until the case ends (bounded to 2 minutes).
func startPrometheus(t *testing.T, load bool) *doctorTarget {
	port := freePort(t)
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['%s']}]\n", addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	if load {
		env = append(env, "GOGC=5")
	}
	cmd, out := startServer(t, env, "http://"+addr+"/-/ready", "prometheus",
		"--config.file="+cfg, "--web.listen-address="+addr, "--storage.tsdb.path="+filepath.Join(dir, "data"))
	if load {
		queryLoad(t, addr)
	}
	return &doctorTarget{spec: "http://" + addr, pid: cmd.Process.Pid, stderr: out.String}
}

// queryLoad sends range queries over every series from two clients until
// the test ends, at most 2 minutes.
func queryLoad(t *testing.T, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				q := url.Values{"query": {`rate({__name__=~".+"}[5s])`}, "step": {"1"},
					"start": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}, "end": {strconv.FormatInt(now.Unix(), 10)}}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/query_range?"+q.Encode(), nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// startNodeExporter runs Debian's node exporter on loopback, scraped by
// the test twice a second: a light load.
func startNodeExporter(t *testing.T) *doctorTarget {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd, out := startServer(t, nil, "http://"+addr+"/metrics", "prometheus-node-exporter", "--web.listen-address="+addr)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	})
	return &doctorTarget{spec: "http://" + addr, pid: cmd.Process.Pid, stderr: out.String}
}
