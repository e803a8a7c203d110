package ps

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the clock-tick fields of /proc/PID/stat: 100 per
// second on every Linux architecture Go runs on.
const userHZ = 100

// usage is what /proc/PID/stat says of a process's resources.
type usage struct {
	PPID    int
	CPU     time.Duration // user and system time of all its threads since it started
	Start   time.Duration // since boot
	Threads int
	RSS     int64 // bytes
}

// parseStat reads /proc/PID/stat. The command name, in parentheses, may
// hold spaces and parentheses itself: the fields start after the last ")".
func parseStat(b []byte, pageSize int64) (usage, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return usage{}, errors.New("no command name in stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return usage{}, fmt.Errorf("%d fields in stat; want at least 24", len(f)+2)
	}
	num := func(field int) (int64, error) {
		v, err := strconv.ParseInt(f[field-3], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("stat field %d: %q is not a count", field, f[field-3])
		}
		return v, nil
	}
	var u usage
	var v [6]int64
	for k, field := range []int{4, 14, 15, 20, 22, 24} { // ppid, utime, stime, num_threads, starttime, rss
		var err error
		if v[k], err = num(field); err != nil {
			return usage{}, err
		}
	}
	u.PPID, u.Threads = int(v[0]), int(v[3])
	u.CPU = ticks(v[1] + v[2])
	u.Start = ticks(v[4])
	u.RSS = v[5] * pageSize
	return u, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * (time.Second / userHZ) }

// readUsage reads pid's usage.
func readUsage(pid int) (usage, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return usage{}, err
	}
	return parseStat(b, int64(os.Getpagesize()))
}

// bootTime is when the host booted, from /proc/stat's btime.
func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("/proc/stat btime %q: %w", v, err)
			}
			return time.Unix(s, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// socketInodes lists the inodes of pid's open sockets, from the links in
// /proc/PID/fd ("socket:[12345]"); nil when they cannot be read (another
// user's process).
func socketInodes(pid int) []uint64 {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []uint64
	for _, e := range entries {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if v, ok := strings.CutPrefix(l, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
