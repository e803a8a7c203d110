package procfs

import "testing"

// The fuzz targets feed every parser arbitrary bytes: each must return
// an error or a value, never panic or loop. The seeds are real files of
// each kind.

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 200 18446744073709551615\n"))
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560 1 0 0 0 18446744073709551615 18446744073709551615 0 0 20 0 1 0 1 1 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseStat(b); err == nil && d < 0 {
			t.Errorf("parseStat = %v; want a non-negative duration", d)
		}
		_, _ = parseSchedstat(b)
		_, _ = parseStartTicks(b)
		_, _ = parseBootTime(b)
		_, _ = parseStatusCPUs(b)
		_, _ = parseLoadavg(b)
	})
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("9:name=systemd:/\n4:memory:/x/y\n1:cpu:/\n0::/\n"), []byte("32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"))
	f.Add([]byte("0::/system.slice/a.service\n"), []byte("29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"))
	f.Add([]byte("3:cpu,cpuacct:/docker/abc\n"), []byte(`700 600 0:40 /docker/abc /sys/fs/cgroup/cpu\040x ro - cgroup cgroup rw,cpu,cpuacct`+"\n"))
	f.Fuzz(func(t *testing.T, cg, mi []byte) {
		lines, err1 := parseCgroup(cg)
		mounts, err2 := parseMountinfo(mi)
		if err1 == nil && err2 == nil {
			_, _, _ = cgroupDir(lines, mounts)
		}
		_, _, _, _ = parseCPUStat(cg, false)
		_, _, _, _ = parseCPUStat(mi, true)
		_, _ = parseCPUMax(cg)
		_, _ = parseV1Quota(cg, mi)
	})
}

func FuzzParseHost(f *testing.F) {
	f.Add([]byte("cpu  321143 0 65894 75292 1162 0 690 959 0 0\ncpu0 160581 0 32033 39179 222 0 126 453 0 0\nprocs_running 3\n"))
	f.Add([]byte("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:A1D7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 237752 1 00000000b9978941 100 0 0 10 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := parseProcStat(b); err == nil && (h.Busy > h.Total || h.Steal > h.Total || h.Busy < 0) {
			t.Errorf("parseProcStat = %+v; want 0 ≤ busy, steal ≤ total", h)
		}
		_, _ = parseNetTCP(b)
		_, _ = socketInode(string(b))
	})
}
