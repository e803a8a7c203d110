//go:build linux

package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// root is where /proc is; tests never change it, but keeping the paths in
// one place makes them easy to read.
const root = "/proc"

// Read reads pid's CPU figures, its cgroup's and the host's. It fails
// only when the process does not exist or its stat file cannot be read;
// any other part that cannot be read is named in Sample.Unavailable.
func Read(pid int) (Sample, error) {
	s := Sample{PID: pid, Time: time.Now()}
	dir := filepath.Join(root, strconv.Itoa(pid))
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return s, fmt.Errorf("procfs: process %d: %w", pid, err)
	}
	if s.CPU, err = parseStat(b); err != nil {
		return s, fmt.Errorf("procfs: process %d: %w", pid, err)
	}
	s.readDelays(dir)
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		s.CPUsAllowed, err = parseStatusCPUs(b)
		s.miss("CPUs allowed", err)
	} else {
		s.miss("CPUs allowed", err)
	}
	s.Cgroup, err = readCgroup(dir)
	s.miss("cgroup CPU limit", err)
	s.Host, err = readHost()
	s.miss("host load", err)
	return s, nil
}

func (s *Sample) miss(what string, err error) {
	if err != nil {
		s.Unavailable = append(s.Unavailable, what+": "+err.Error())
	}
}

// readDelays sums the run delay of the process's threads.
func (s *Sample) readDelays(dir string) {
	ents, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		s.miss("run delay", err)
		return
	}
	s.delays = make(map[int]time.Duration, len(ents))
	var firstErr error
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "task", e.Name(), "schedstat"))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) || firstErr == nil {
				firstErr = err // a thread that just exited is not a failure, a missing file everywhere is
			}
			continue
		}
		d, err := parseSchedstat(b)
		if err != nil {
			firstErr = err
			continue
		}
		s.delays[tid] = d
		s.RunDelay += d
		s.Threads++
	}
	if s.Threads == 0 {
		s.delays = nil
		if firstErr == nil {
			firstErr = errors.New("no thread could be read")
		}
		s.miss("run delay (schedstat; needs CONFIG_SCHED_INFO)", firstErr)
	}
}

// readHost reads /proc/stat and /proc/loadavg.
func readHost() (Host, error) {
	b, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return Host{}, err
	}
	h, err := parseProcStat(b)
	if err != nil {
		return h, err
	}
	if b, err = os.ReadFile(filepath.Join(root, "loadavg")); err != nil {
		return h, err
	}
	h.Load1, err = parseLoadavg(b)
	return h, err
}

// readCgroup finds the cgroup that holds pid's CPU controller and reads
// its limit and throttling: the smallest quota among the cgroup and its
// ancestors, with the throttling figures of the cgroup that sets it.
func readCgroup(dir string) (Cgroup, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup"))
	if err != nil {
		return Cgroup{}, err
	}
	lines, err := parseCgroup(b)
	if err != nil {
		return Cgroup{}, err
	}
	b, err = os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return Cgroup{}, err
	}
	mounts, err := parseMountinfo(b)
	if err != nil {
		return Cgroup{}, err
	}
	own, version, err := cgroupDir(lines, mounts)
	if err != nil {
		return Cgroup{}, err
	}
	return readLimit(own, version)
}

// cgroupDir returns the directory of the process's CPU cgroup: the v1
// hierarchy with the cpu controller if there is one (hybrid systems mount
// v2 without it), else the v2 hierarchy.
func cgroupDir(lines []cgroupLine, mounts []mount) (string, int, error) {
	for _, l := range lines {
		if l.v2 || !has(l.controllers, "cpu") {
			continue
		}
		for _, m := range mounts {
			if !m.v2 && has(m.options, "cpu") {
				return join(m, l.path), 1, nil
			}
		}
		return "", 0, errors.New("the cpu cgroup hierarchy is not mounted")
	}
	for _, l := range lines {
		if !l.v2 {
			continue
		}
		for _, m := range mounts {
			if m.v2 {
				d := join(m, l.path)
				if _, err := os.Stat(filepath.Join(d, "cpu.stat")); err == nil {
					return d, 2, nil
				}
			}
		}
	}
	return "", 0, errors.New("no cpu cgroup found for the process")
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// join places a cgroup path under a mount of its hierarchy: a mount of
// a subtree (a container's) has that subtree as its root.
func join(m mount, path string) string {
	rel := path
	if m.root != "/" {
		if r, ok := strings.CutPrefix(path, m.root); ok && (r == "" || r[0] == '/') {
			rel = r
		}
	}
	return filepath.Join(m.point, filepath.Clean("/"+rel))
}

// readLimit walks from dir up to its hierarchy's mount point and returns
// the limiting cgroup's quota and throttling, or dir's throttling when no
// cgroup has a quota.
func readLimit(dir string, version int) (Cgroup, error) {
	best := Cgroup{Version: version, Path: dir}
	for d := dir; ; d = filepath.Dir(d) {
		q, err := readQuota(d, version)
		if err != nil && d == dir {
			return Cgroup{}, err
		}
		if err == nil && q > 0 && (best.Quota == 0 || q < best.Quota) {
			best.Quota, best.Path = q, d
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(d), "cpu.stat")); err != nil || d == "/" || filepath.Dir(d) == d {
			break
		}
	}
	b, err := os.ReadFile(filepath.Join(best.Path, "cpu.stat"))
	if err != nil {
		return best, err
	}
	best.Periods, best.Throttled, best.ThrottledTime, err = parseCPUStat(b, version == 2)
	return best, err
}

func readQuota(dir string, version int) (float64, error) {
	if version == 2 {
		b, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil // the root cgroup has no cpu.max
		}
		if err != nil {
			return 0, err
		}
		return parseCPUMax(b)
	}
	q, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, err
	}
	p, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, err
	}
	return parseV1Quota(q, p)
}

// ListenerPID returns the PID of the local process listening on TCP port
// (IPv4 or IPv6, any address). It fails with ErrNoListener when there is
// none that this user can see.
func ListenerPID(port int) (int, error) {
	inodes := map[uint64]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		socks, err := readTCP(f)
		if err != nil {
			continue // no IPv6, say
		}
		for _, s := range socks {
			if s.state == tcpListen && s.port == port {
				inodes[s.inode] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, ErrNoListener
	}
	procs, err := os.ReadDir(root)
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		found := false
		eachSocket(pid, func(ino uint64) bool {
			found = inodes[ino]
			return !found
		})
		if found {
			return pid, nil
		}
	}
	return 0, ErrNoListener
}

func readTCP(name string) ([]tcpSocket, error) {
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	return parseNetTCP(b)
}

// eachSocket calls f with the inode of each of pid's sockets until f
// returns false. It reports whether the fds could be listed.
func eachSocket(pid int, f func(inode uint64) bool) error {
	dir := filepath.Join(root, strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if ino, ok := socketInode(link); ok && !f(ino) {
			return nil
		}
	}
	return nil
}

// Sockets counts pid's open sockets: all of them, and its TCP connections
// established and listening (IPv4 and IPv6).
func Sockets(pid int) (SocketCount, error) {
	var c SocketCount
	mine := map[uint64]bool{}
	if err := eachSocket(pid, func(ino uint64) bool {
		mine[ino] = true
		return true
	}); err != nil {
		return c, fmt.Errorf("procfs: sockets of process %d: %w", pid, err)
	}
	c.Total = len(mine)
	var established []tcpSocket
	listening := map[int]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		socks, err := readTCP(f)
		if err != nil {
			continue
		}
		for _, s := range socks {
			if !mine[s.inode] {
				continue
			}
			switch s.state {
			case tcpEstablished:
				established = append(established, s)
			case tcpListen:
				listening[s.port] = true
			}
		}
	}
	c.Established, c.Listening = len(established), len(listening)
	for _, s := range established {
		if listening[s.port] {
			c.Inbound++
		}
	}
	return c, nil
}

// StartTime returns when pid started, to a hundredth of a second: what
// tells a PID's current process from an earlier one, or a PID seen from
// another PID namespace from this host's process of that number.
func StartTime(pid int) (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return time.Time{}, fmt.Errorf("procfs: process %d: %w", pid, err)
	}
	ticks, err := parseStartTicks(b)
	if err != nil {
		return time.Time{}, fmt.Errorf("procfs: process %d: %w", pid, err)
	}
	st, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	boot, err := parseBootTime(st)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(boot, 0).Add(time.Duration(ticks) * (time.Second / userHZ)), nil
}
