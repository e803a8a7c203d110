package procfs

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The parsers below read the kernel's text formats. Each takes the file's
// bytes and returns an error, never panics, on anything unexpected; they
// are fuzzed.

// parseStat reads utime+stime from /proc/PID/stat. The command name, in
// parentheses, may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name; want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat: bad utime %q or stime %q", f[11], f[12])
	}
	return ticks(ut + st), nil
}

// ticks converts clock ticks to a Duration, saturating.
func ticks(n uint64) time.Duration {
	if n > math.MaxInt64/uint64(time.Second/userHZ) {
		return math.MaxInt64
	}
	return time.Duration(n) * (time.Second / userHZ)
}

// parseSchedstat reads the run delay (second field, ns) of a schedstat file.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("schedstat: %d fields; want 3", len(f))
	}
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat: bad run delay %q", f[1])
	}
	return time.Duration(min(n, math.MaxInt64)), nil
}

// parseCPUList counts the CPUs of a list such as "0-3,8,10-11".
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty CPU list")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("bad CPU list %q", s)
			}
		}
		if b-a >= 1<<20 {
			return 0, fmt.Errorf("bad CPU list %q", s)
		}
		n += b - a + 1
	}
	return n, nil
}

// parseStatusCPUs reads Cpus_allowed_list from /proc/PID/status.
func parseStatusCPUs(b []byte) (int, error) {
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return parseCPUList(v)
		}
	}
	return 0, fmt.Errorf("status: no Cpus_allowed_list")
}

// cgroupLine is one line of /proc/PID/cgroup.
type cgroupLine struct {
	controllers []string // empty for the v2 hierarchy
	path        string
	v2          bool
}

// parseCgroup reads /proc/PID/cgroup: "ID:controllers:path" per line,
// "0::path" for cgroup v2.
func parseCgroup(b []byte) ([]cgroupLine, error) {
	var out []cgroupLine
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(l, ":")
		ctl, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("cgroup: bad line %q", trunc(l))
		}
		c := cgroupLine{path: path, v2: id == "0" && ctl == ""}
		if ctl != "" {
			c.controllers = strings.Split(ctl, ",")
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cgroup: empty")
	}
	return out, nil
}

// mount is one cgroup line of /proc/self/mountinfo.
type mount struct {
	root, point string
	v2          bool
	options     []string // super options: the v1 controllers
}

// parseMountinfo returns the cgroup and cgroup2 mounts of a mountinfo
// file: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
func parseMountinfo(b []byte) ([]mount, error) {
	var out []mount
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 {
			return nil, fmt.Errorf("mountinfo: bad line %q", trunc(l))
		}
		switch g[0] {
		case "cgroup", "cgroup2":
		default:
			continue
		}
		m := mount{root: unescape(f[3]), point: unescape(f[4]), v2: g[0] == "cgroup2"}
		if len(g) >= 3 {
			m.options = strings.Split(g[2], ",")
		}
		out = append(out, m)
	}
	return out, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// keyValues reads "key value" lines (cpu.stat).
func keyValues(b []byte) map[string]uint64 {
	out := map[string]uint64{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// parseCPUStat reads a cgroup's cpu.stat: v1 counts throttled_time in
// ns, v2 throttled_usec in µs.
func parseCPUStat(b []byte, v2 bool) (periods, throttled uint64, t time.Duration, err error) {
	kv := keyValues(b)
	p, ok1 := kv["nr_periods"]
	n, ok2 := kv["nr_throttled"]
	var tt uint64
	var ok3 bool
	if v2 {
		tt, ok3 = kv["throttled_usec"]
		tt = min(tt, math.MaxInt64/1000) * 1000
	} else {
		tt, ok3 = kv["throttled_time"]
	}
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, fmt.Errorf("cpu.stat: no nr_periods, nr_throttled and throttled time")
	}
	return p, n, time.Duration(min(tt, math.MaxInt64)), nil
}

// parseCPUMax reads cgroup v2's cpu.max: "max 100000" or "50000 100000".
// It returns the CPUs allowed, 0 for no limit.
func parseCPUMax(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, fmt.Errorf("cpu.max: %q; want QUOTA PERIOD", trunc(string(b)))
	}
	period, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || period == 0 {
		return 0, fmt.Errorf("cpu.max: bad period %q", f[1])
	}
	if f[0] == "max" {
		return 0, nil
	}
	q, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cpu.max: bad quota %q", f[0])
	}
	return float64(q) / float64(period), nil
}

// parseV1Quota reads cgroup v1's cfs quota and period (µs); a quota of
// -1 means no limit.
func parseV1Quota(quota, period []byte) (float64, error) {
	q, err := strconv.ParseInt(strings.TrimSpace(string(quota)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cpu.cfs_quota_us: %q", trunc(string(quota)))
	}
	p, err := strconv.ParseInt(strings.TrimSpace(string(period)), 10, 64)
	if err != nil || p <= 0 {
		return 0, fmt.Errorf("cpu.cfs_period_us: %q", trunc(string(period)))
	}
	if q <= 0 {
		return 0, nil
	}
	return float64(q) / float64(p), nil
}

// parseProcStat reads /proc/stat: the aggregate cpu line, the number of
// cpuN lines and procs_running.
func parseProcStat(b []byte) (Host, error) {
	var h Host
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "cpu":
			// user nice system idle iowait irq softirq steal guest guest_nice;
			// guest time is already counted in user and nice.
			if len(f) < 5 {
				return h, fmt.Errorf("/proc/stat: short cpu line")
			}
			var v [8]uint64
			for i := 0; i < 8 && i+1 < len(f); i++ {
				n, err := strconv.ParseUint(f[i+1], 10, 64)
				if err != nil {
					return h, fmt.Errorf("/proc/stat: bad cpu field %q", f[i+1])
				}
				v[i] = min(n, math.MaxInt64/(2*16*uint64(time.Second/userHZ)))
			}
			var total uint64
			for _, n := range v {
				total += n
			}
			h.Total, h.Steal = ticks(total), ticks(v[7])
			h.Busy = ticks(total - v[3] - v[4])
			found = true
		case strings.HasPrefix(f[0], "cpu"):
			h.CPUs++
		case f[0] == "procs_running" && len(f) > 1:
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 0 {
				return h, fmt.Errorf("/proc/stat: bad procs_running %q", f[1])
			}
			h.Running = n
		}
	}
	if !found {
		return h, fmt.Errorf("/proc/stat: no cpu line")
	}
	return h, nil
}

// parseLoadavg reads the one-minute load average.
func parseLoadavg(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, fmt.Errorf("loadavg: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("loadavg: bad %q", trunc(f[0]))
	}
	return v, nil
}

// TCP states of /proc/net/tcp.
const (
	tcpEstablished = 0x01
	tcpListen      = 0x0A
)

// tcpSocket is one line of /proc/net/tcp or tcp6.
type tcpSocket struct {
	port  int
	state int
	inode uint64
}

// parseNetTCP reads /proc/net/tcp or tcp6: after a header line,
// "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...", with
// addresses as HEXADDR:HEXPORT.
func parseNetTCP(b []byte) ([]tcpSocket, error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], "local_address") {
		return nil, fmt.Errorf("net/tcp: no header")
	}
	var out []tcpSocket
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("net/tcp: short line %q", trunc(l))
		}
		_, port, ok := strings.Cut(f[1], ":")
		p, err1 := strconv.ParseUint(port, 16, 16)
		st, err2 := strconv.ParseUint(f[3], 16, 8)
		ino, err3 := strconv.ParseUint(f[9], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("net/tcp: bad line %q", trunc(l))
		}
		out = append(out, tcpSocket{port: int(p), state: int(st), inode: ino})
	}
	return out, nil
}

// socketInode reads the inode of an fd link "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if s, ok2 := strings.CutSuffix(s, "]"); ok && ok2 {
		n, err := strconv.ParseUint(s, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// parseStartTicks reads a process's start time, in clock ticks after
// boot, from /proc/PID/stat (field 22).
func parseStartTicks(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("stat: %d fields after the command name; want at least 20", len(f))
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: bad start time %q", f[19])
	}
	return n, nil
}

// parseBootTime reads btime, the boot time in seconds since the epoch,
// from /proc/stat.
func parseBootTime(b []byte) (int64, error) {
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("/proc/stat: bad btime %q", v)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("/proc/stat: no btime")
}
