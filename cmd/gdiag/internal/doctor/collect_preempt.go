package doctor

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	tracecmd "github.com/gdiag/gdiag/cmd/gdiag/internal/trace"
)

// Preemption is what the preemption-delay rule knows besides the history.
type Preemption struct {
	// AsyncPreemptOff says whether the target runs with asynchronous
	// preemption off (GODEBUG asyncpreemptoff set to a number other than
	// 0); nil when it could not be read. GODEBUGFrom says where it was
	// read.
	AsyncPreemptOff *bool
	GODEBUGFrom     string
	// STW are the stop-the-world pauses of the trace in TraceFrom ("the
	// flight recorder", "a 5s trace"), longest first; nil without a trace.
	STW       []tracecmd.STWEvent
	TraceFrom string
}

// maxDoctorTrace bounds the trace doctor reads for the rule; the flight
// recorder keeps about 10 MiB by default.
const maxDoctorTrace = 256 << 20

// preemption gathers what the preemption-delay rule reads: the target's
// GODEBUG, and the stop-the-world pauses of an execution trace that
// overlaps the CPU profile (of length cpu, started with the window), so
// that the trace holds CPU samples of the goroutines the world waited
// for. With a flight recorder, it is dumped three quarters of the way
// through the CPU profile; otherwise doctor traces the target for as long
// as the CPU profile runs, from the start.
func (c *collector) preemption(ctx context.Context, cpu time.Duration) {
	p := &Preemption{}
	p.AsyncPreemptOff, p.GODEBUGFrom = asyncPreemptOff(c.t, c.info)
	data, from, err := c.stwTrace(ctx, cpu)
	if !c.obs.Agent {
		c.gomaxprocs(data, from, err)
	}
	switch {
	case err != nil:
		c.failed(ctx, "execution trace for stop-the-world pauses", err)
	case data != nil:
		evs, perr := tracecmd.StopTheWorld(bytes.NewReader(data))
		if perr != nil {
			c.note("execution trace for stop-the-world pauses: %v", perr)
			break
		}
		p.STW, p.TraceFrom = evs, from
	}
	c.mu.Lock()
	c.obs.Preemption = p
	c.mu.Unlock()
}

// stwTrace returns the trace the rule reads and what it is, or nil when
// the target offers none.
func (c *collector) stwTrace(ctx context.Context, cpu time.Duration) ([]byte, string, error) {
	var body io.ReadCloser
	var err error
	from := ""
	switch {
	case c.obs.Agent && hasCap(c.info, apiv1.CapFlight):
		wait := time.NewTimer(cpu * 3 / 4)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-ctx.Done():
			return nil, "", nil
		case <-c.stop:
			return nil, "", nil
		}
		body, err = c.t.Flight(ctx)
		from = "the flight recorder"
	case c.obs.Agent && !hasCap(c.info, apiv1.CapTrace):
		c.note("execution trace: the agent serves none, so the goroutine delaying stop-the-world pauses cannot be named")
		return nil, "", nil
	default:
		d := cpu
		if c.t.Kind == target.KindPprof {
			d = d.Truncate(time.Second) // net/http/pprof takes whole seconds
		}
		if d <= 0 {
			return nil, "", nil
		}
		body, err = c.t.Trace(ctx, d)
		from = "a " + d.String() + " trace"
	}
	if err != nil {
		return nil, "", err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxDoctorTrace))
	if err != nil {
		return nil, "", err
	}
	return data, from, nil
}

// asyncPreemptOff reads whether the target runs with asynchronous
// preemption off, and from where: a local process's environment and
// binary (/proc/PID/environ, /proc/PID/exe) when readable, which are what
// its runtime read at start, else what the agent reports. nil: unknown.
func asyncPreemptOff(t *target.Target, info apiv1.Info) (*bool, string) {
	g, from := localGODEBUG(t.PID)
	if g == nil && info.GODEBUG != nil && (t.PID == 0 || info.PID == t.PID) {
		g, from = info.GODEBUG, "the agent's /v1/info"
	}
	if g == nil {
		return nil, ""
	}
	v, ok := g.Setting("asyncpreemptoff")
	n, err := strconv.Atoi(v)
	off := ok && err == nil && n != 0
	return &off, from
}

// localGODEBUG reads the GODEBUG settings of local process pid: its
// initial environment and its binary's defaults. It returns nil when pid
// is 0 or the environment cannot be read.
func localGODEBUG(pid int) (*apiv1.GODEBUG, string) {
	if pid <= 0 {
		return nil, ""
	}
	dir := "/proc/" + strconv.Itoa(pid)
	env, err := os.ReadFile(dir + "/environ")
	if err != nil {
		return nil, ""
	}
	g := &apiv1.GODEBUG{}
	for kv := range strings.SplitSeq(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			g.Env = v
			break // the first, as the runtime reads it
		}
	}
	from := dir + "/environ"
	if bi, err := buildinfo.ReadFile(dir + "/exe"); err == nil {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				g.Default = s.Value
			}
		}
		from += " and the binary's build settings"
	}
	return g, from
}
