package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	xtrace "golang.org/x/exp/trace"
)

// maxTraceEvents bounds the events read from that trace: the Ps all show
// at the trace's start, and a busy process writes millions of events.
const maxTraceEvents = 200_000

// gomaxprocs finds a pprof target's GOMAXPROCS from the execution trace
// doctor takes for stop-the-world pauses (the runtime lists every P, idle
// or not, when a trace starts), so that one trace serves both: the
// runtime runs one at a time, and a second request would be refused.
// Without that trace it is, for a process on this host, GOMAXPROCS in its
// environment or the runtime's default for its CPUs.
func (c *collector) gomaxprocs(trace []byte, from string, traceErr error) {
	var n int
	how := from
	err := traceErr
	switch {
	case trace != nil:
		if n, err = countProcs(io.LimitReader(bytes.NewReader(trace), maxProfile)); err != nil {
			err = fmt.Errorf("reading the trace: %v (a Go 1.22+ trace is needed)", err)
		}
	case err == nil:
		err = errors.New("no trace was taken")
	}
	if err != nil {
		c.note("GOMAXPROCS from an execution trace: %v", err)
		n, how = c.localGOMAXPROCS()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if traceErr != nil {
		c.obs.NoTrace = true
	}
	if n > 0 {
		c.obs.GOMAXPROCS, c.obs.GOMAXPROCSFrom = n, how
	}
}

// countProcs counts the distinct Ps an execution trace names.
func countProcs(r io.Reader) (int, error) {
	tr, err := xtrace.NewReader(r)
	if err != nil {
		return 0, err
	}
	procs := map[xtrace.ProcID]bool{}
	for i := 0; i < maxTraceEvents; i++ {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(procs) > 0 {
				break // a cut-short trace still named its Ps at the start
			}
			return 0, err
		}
		if p := ev.Proc(); realProc(p) {
			procs[p] = true
		}
		if ev.Kind() == xtrace.EventStateTransition {
			if st := ev.StateTransition(); st.Resource.Kind == xtrace.ResourceProc && realProc(st.Resource.Proc()) {
				procs[st.Resource.Proc()] = true
			}
		}
	}
	if len(procs) == 0 {
		return 0, fmt.Errorf("the trace names no P")
	}
	return len(procs), nil
}

// localGOMAXPROCS reads a local process's GOMAXPROCS from its environment,
// else takes the runtime's default: its CPUs allowed, and since Go 1.25
// no more than its cgroup quota rounded up.
func (c *collector) localGOMAXPROCS() (int, string) {
	if c.osPID == 0 {
		return 0, ""
	}
	if n := envGOMAXPROCS(c.osPID); n > 0 {
		return n, "GOMAXPROCS in its environment"
	}
	c.readOS(context.Background())
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.obs.OS) == 0 {
		return 0, ""
	}
	s := c.obs.OS[len(c.obs.OS)-1]
	n := s.CPUsAllowed
	if n == 0 {
		n = s.Host.CPUs
	}
	if p, err := target.Inspect(c.osPID); err == nil && goAtLeast(p.GoVersion, 25) && s.Cgroup.Quota > 0 {
		n = min(n, max(2, int(math.Ceil(s.Cgroup.Quota))))
	}
	return n, fmt.Sprintf("the runtime's default for %d CPUs", n)
}

// goAtLeast reports whether a version such as "go1.26.8" is 1.minor or later.
func goAtLeast(v string, minor int) bool {
	var major, m int
	if _, err := fmt.Sscanf(v, "go%d.%d", &major, &m); err != nil {
		return false
	}
	return major > 1 || major == 1 && m >= minor
}

// realProc reports whether p is one of the runtime's Ps: traces of Go
// 1.21 and older, which the reader converts, also carry pseudo-Ps
// numbered from 1,000,000 for timers, the network poller, system calls
// and the GC.
func realProc(p xtrace.ProcID) bool {
	return p != xtrace.NoProc && p >= 0 && p < 1_000_000
}
