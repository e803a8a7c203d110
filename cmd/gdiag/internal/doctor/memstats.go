package doctor

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// parseMemStats reads the runtime.MemStats block at the end of a text heap
// profile (debug=1). It skips every other line, so it does not matter how
// many records precede the block; a profile without one is an error.
func parseMemStats(r io.Reader, at time.Time) (MemStats, error) {
	m := MemStats{Time: at}
	sc := bufio.NewScanner(io.LimitReader(r, maxProfile))
	sc.Buffer(make([]byte, 0, 4<<10), 1<<20)
	found := 0
	for sc.Scan() {
		name, val, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok || len(name) > 20 {
			continue
		}
		var err error
		switch name {
		case "TotalAlloc":
			m.TotalAlloc, err = strconv.ParseUint(val, 10, 64)
		case "HeapAlloc":
			m.HeapAlloc, err = strconv.ParseUint(val, 10, 64)
		case "NextGC":
			m.NextGC, err = strconv.ParseUint(val, 10, 64)
		case "NumGC":
			m.NumGC, err = strconv.ParseUint(val, 10, 64)
		case "GCCPUFraction":
			m.GCCPUFraction, err = strconv.ParseFloat(val, 64)
		case "PauseNs":
			m.PauseNs, err = parseUintList(val)
		default:
			continue
		}
		if err != nil {
			return m, fmt.Errorf("heap profile: bad %s: %v", name, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("heap profile: %v", err)
	}
	if found < 4 {
		return m, fmt.Errorf("heap profile has no runtime.MemStats block (want the debug=1 form)")
	}
	return m, nil
}

// parseUintList parses "[1 2 3]".
func parseUintList(s string) ([]uint64, error) {
	s, open := strings.CutPrefix(s, "[")
	s, closed := strings.CutSuffix(s, "]")
	if !open || !closed {
		return nil, fmt.Errorf("want [n n ...]")
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// windowPauses returns the GC pauses of the cycles that ended between two
// MemStats readings, at most the 256 the runtime remembers.
func windowPauses(start, end MemStats) []time.Duration {
	ring := uint64(len(end.PauseNs))
	if ring == 0 || end.NumGC <= start.NumGC {
		return nil
	}
	count := min(end.NumGC-start.NumGC, ring)
	out := make([]time.Duration, 0, count)
	// GC number n (counting from 1) sits at index (n-1) mod ring; counting
	// rather than comparing with NumGC keeps the loop finite at the top
	// of the uint64 range.
	for k := count; k > 0; k-- {
		n := end.NumGC - k + 1
		out = append(out, time.Duration(end.PauseNs[(n-1)%ring]))
	}
	return out
}

// parseThreadCreate reads the total from a text threadcreate profile
// (debug=1): "threadcreate profile: total 12".
func parseThreadCreate(r io.Reader) (int, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	if sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "threadcreate profile: total "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("not a text threadcreate profile")
}
