package procfs

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as the kernel allows.
	b := []byte("1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 200 18446744073709551615\n")
	got, err := parseStat(b)
	if want := 3 * time.Second; err != nil || got != want {
		t.Errorf("parseStat = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "1234 (x) S 1", "1234 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13", "no paren"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) = nil error; want one", bad)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("1892532 1478137 5\n"))
	if err != nil || got != 1478137*time.Nanosecond {
		t.Errorf("parseSchedstat = %v, %v; want 1.478137ms", got, err)
	}
	if _, err := parseSchedstat([]byte("12")); err == nil {
		t.Error("parseSchedstat(one field) = nil error; want one")
	}
}

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"0-1", 2}, {"0", 1}, {"0-3,8,10-11\n", 7}} {
		if got, err := parseCPUList(c.in); err != nil || got != c.want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "3-1", "a", "0-99999999999", "-1"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = nil error; want one", bad)
		}
	}
}

func TestCgroupDir(t *testing.T) {
	hybridMounts := []byte(`31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`)
	containerMounts := []byte(`700 600 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct
`)
	for _, c := range []struct {
		name, cgroup string
		mounts       []byte
		want         string
		version      int
	}{
		{"hybrid, v1 cpu", "4:memory:/x\n1:cpu:/gdiag/t1\n0::/\n", hybridMounts, "/sys/fs/cgroup/cpu/gdiag/t1", 1},
		{"container root", "3:cpu,cpuacct:/docker/abc\n", containerMounts, "/sys/fs/cgroup/cpu,cpuacct", 1},
		{"container child", "3:cpu,cpuacct:/docker/abc/sub\n", containerMounts, "/sys/fs/cgroup/cpu,cpuacct/sub", 1},
	} {
		lines, err := parseCgroup([]byte(c.cgroup))
		if err != nil {
			t.Fatalf("%s: parseCgroup: %v", c.name, err)
		}
		ms, err := parseMountinfo(c.mounts)
		if err != nil {
			t.Fatalf("%s: parseMountinfo: %v", c.name, err)
		}
		got, v, err := cgroupDir(lines, ms)
		if err != nil || got != c.want || v != c.version {
			t.Errorf("%s: cgroupDir = %q, v%d, %v; want %q, v%d", c.name, got, v, err, c.want, c.version)
		}
	}
}

func TestParseCgroupFiles(t *testing.T) {
	p, n, tt, err := parseCPUStat([]byte("nr_periods 120\nnr_throttled 90\nthrottled_time 4500000000\nnr_bursts 0\n"), false)
	if err != nil || p != 120 || n != 90 || tt != 4500*time.Millisecond {
		t.Errorf("parseCPUStat(v1) = %d %d %v %v; want 120 90 4.5s", p, n, tt, err)
	}
	p, n, tt, err = parseCPUStat([]byte("usage_usec 100\nnr_periods 7\nnr_throttled 3\nthrottled_usec 2500\n"), true)
	if err != nil || p != 7 || n != 3 || tt != 2500*time.Microsecond {
		t.Errorf("parseCPUStat(v2) = %d %d %v %v; want 7 3 2.5ms", p, n, tt, err)
	}
	if _, _, _, err := parseCPUStat([]byte("usage_usec 100\n"), true); err == nil {
		t.Error("parseCPUStat(no throttling figures) = nil error; want one")
	}
	for _, c := range []struct {
		in   string
		want float64
	}{{"max 100000\n", 0}, {"50000 100000\n", 0.5}, {"250000 100000", 2.5}} {
		if got, err := parseCPUMax([]byte(c.in)); err != nil || got != c.want {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if got, err := parseV1Quota([]byte("-1\n"), []byte("100000\n")); err != nil || got != 0 {
		t.Errorf("parseV1Quota(-1) = %v, %v; want 0 (no limit)", got, err)
	}
	if got, err := parseV1Quota([]byte("20000\n"), []byte("100000\n")); err != nil || got != 0.2 {
		t.Errorf("parseV1Quota(20000/100000) = %v, %v; want 0.2", got, err)
	}
}

func TestParseHost(t *testing.T) {
	h, err := parseProcStat([]byte("cpu  300 0 100 500 50 0 0 50 0 0\ncpu0 150 0 50 250 25 0 0 25 0 0\ncpu1 150 0 50 250 25 0 0 25 0 0\nintr 1\nprocs_running 3\n"))
	if err != nil || h.CPUs != 2 || h.Running != 3 || h.Total != 10*time.Second || h.Busy != 4500*time.Millisecond || h.Steal != 500*time.Millisecond {
		t.Errorf("parseProcStat = %+v, %v; want 2 CPUs, 3 running, total 10s, busy 4.5s, steal 0.5s", h, err)
	}
	if l, err := parseLoadavg([]byte("9.10 8.76 7.14 9/198 26826\n")); err != nil || l != 9.10 {
		t.Errorf("parseLoadavg = %v, %v; want 9.1", l, err)
	}
}

func TestParseNetTCP(t *testing.T) {
	b := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A1D7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 237752 1 00000000b9978941 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0 20 4 30 10 -1
`)
	got, err := parseNetTCP(b)
	if err != nil || len(got) != 2 || got[0] != (tcpSocket{port: 0xA1D7, state: tcpListen, inode: 237752}) || got[1].state != tcpEstablished {
		t.Errorf("parseNetTCP = %+v, %v; want a listener on %d and an established socket", got, err, 0xA1D7)
	}
	if _, err := parseNetTCP([]byte("garbage\n1 2 3")); err == nil {
		t.Error("parseNetTCP(no header) = nil error; want one")
	}
}

func TestDiff(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := Sample{Time: t0, CPU: time.Second, delays: map[int]time.Duration{1: time.Second, 2: time.Second},
		Cgroup: Cgroup{Path: "/c", Quota: 0.5, Periods: 100, Throttled: 10, ThrottledTime: time.Second},
		Host:   Host{CPUs: 2, Total: 100 * time.Second, Busy: 50 * time.Second, Steal: time.Second}}
	b := a
	b.Time = t0.Add(2 * time.Second)
	b.CPU = 2 * time.Second
	// Thread 2 exited; thread 3 started in between.
	b.delays = map[int]time.Duration{1: 1500 * time.Millisecond, 3: 500 * time.Millisecond}
	b.Cgroup.Periods, b.Cgroup.Throttled, b.Cgroup.ThrottledTime = 120, 28, 2*time.Second
	b.Host.Total, b.Host.Busy, b.Host.Steal = 104*time.Second, 53*time.Second, 1200*time.Millisecond
	b.CPUsAllowed = 2
	r := Diff(a, b)
	want := Rates{Seconds: 2, CPU: 0.5, RunDelay: 0.5, Quota: 0.5, Periods: 20, Throttled: 18, ThrottledTime: 0.5,
		HostCPUs: 2, CPUsAllowed: 2, HostBusy: 0.75, HostSteal: 0.05}
	if !near(r, want) {
		t.Errorf("Diff = %+v\nwant   %+v", r, want)
	}
	if f := r.ThrottledFraction(); f != 0.9 {
		t.Errorf("ThrottledFraction = %v; want 0.9", f)
	}
	if u := r.UsableCPUs(); u != 0.5 {
		t.Errorf("UsableCPUs = %v; want 0.5 (the quota)", u)
	}
	// Counters that went backwards count as zero, never negative.
	if r := Diff(b, a); r.Seconds != 0 || r.CPU != 0 {
		t.Errorf("Diff(later, earlier) = %+v; want zero rates", r)
	}
}

func near(a, b Rates) bool {
	close := func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 }
	return close(a.Seconds, b.Seconds) && close(a.CPU, b.CPU) && close(a.RunDelay, b.RunDelay) &&
		close(a.Quota, b.Quota) && a.Periods == b.Periods && a.Throttled == b.Throttled &&
		close(a.ThrottledTime, b.ThrottledTime) && a.HostCPUs == b.HostCPUs && a.CPUsAllowed == b.CPUsAllowed &&
		close(a.HostBusy, b.HostBusy) && close(a.HostSteal, b.HostSteal)
}
