package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/gdiag/gdiag/gdump"
)

// pollEvery is how often doctor reads the pools (agent) or the thread
// count (pprof) during the window; it doubles as the liveness check.
const pollEvery = time.Second

// maxCensusGroups bounds the census doctor asks the agent for: leaks show
// in the largest groups.
const maxCensusGroups = 1000

// collector gathers an Observation. Its goroutines store results under mu;
// every request has the --timeout deadline of the target.
type collector struct {
	t      *target.Target
	window time.Duration
	start  time.Time
	info   apiv1.Info

	mu       sync.Mutex
	obs      Observation
	missing  []string
	died     bool
	hung     bool // the last liveness poll timed out: the target stopped answering
	diedAt   time.Duration
	stopOnce sync.Once
	stop     chan struct{} // closed when the target is gone
	mutex0   *contentionTotals
	block0   *contentionTotals
	alloc0   map[string]float64
	allocT0  float64
	osPID    int // the target's PID on this host, 0 when it cannot be read from /proc
}

func newCollector(t *target.Target, window time.Duration, info apiv1.Info) *collector {
	c := &collector{t: t, window: window, info: info, stop: make(chan struct{})}
	c.obs.Agent = t.Kind == target.KindAgent
	c.obs.GOMAXPROCS = info.GOMAXPROCS
	c.osPID, c.obs.OSMissing = locate(t, info)
	c.obs.MemoryLimit, c.obs.MemoryLimitFrom = envMemoryLimit(c.osPID)
	return c
}

func (c *collector) note(format string, args ...any) {
	c.mu.Lock()
	c.missing = append(c.missing, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// failed records why part of the check could not be done, and notices
// a target that has gone away.
func (c *collector) failed(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return // the window ended or doctor was interrupted: not a failure to report
	}
	if c.gone(err) {
		c.markDied()
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	var ce *cli.Error
	if what == "snapshot" && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ce) && ce.Code == cli.ExitTimeout) {
		c.mu.Lock()
		c.hung = true
		c.mu.Unlock()
	}
	msg := err.Error()
	var se *apiv1.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusConflict || strings.Contains(msg, " 409 ") {
		msg = "another capture was already running (409)"
	}
	c.note("%s: %s", what, msg)
}

// gone reports whether err means the process, or at least its agent, is
// no longer there: the connection failed (refused, reset, cut short).
func (c *collector) gone(err error) bool {
	var ce *cli.Error
	return errors.Is(err, apiv1.ErrUnreachable) ||
		errors.As(err, &ce) && (ce.Code == cli.ExitTarget || ce.Code == cli.ExitUnreachable)
}

// processAlive reports whether pid is a live process (a zombie is not).
func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// The state follows the command name, which is in parentheses.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

func (c *collector) markDied() {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.died, c.diedAt = true, time.Since(c.start)
		c.mu.Unlock()
		close(c.stop)
	})
}

// Run watches the target for the window (or until ctx ends or the target
// dies) and returns what it gathered.
func (c *collector) Run(ctx context.Context) (*Observation, []string) {
	c.start = time.Now()
	// The start readings are awaited before the end ones are taken, so
	// that deltas always subtract the earlier from the later.
	var first, bg sync.WaitGroup
	goStep := func(wg *sync.WaitGroup, f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	goStep(&first, func() { c.census(ctx) })
	goStep(&first, func() { c.contention(ctx, true) })
	goStep(&first, func() { c.mem(ctx) })
	goStep(&first, func() { c.allocs(ctx) })
	if c.obs.Agent {
		goStep(&first, func() { c.agentMemoryLimit(ctx) })
	}
	cpu := min(c.window/2, 10*time.Second)
	goStep(&bg, func() { c.cpu(ctx, cpu) })
	goStep(&bg, func() { c.preemption(ctx, cpu) })
	if !c.obs.Agent {
		goStep(&bg, func() { c.midDump(ctx) })
	}
	pctx, stopPoll := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	goStep(&pwg, func() { c.poll(pctx) })
	timer := time.NewTimer(c.window)
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-c.stop:
	}
	timer.Stop()
	stopPoll()
	pwg.Wait()
	elapsed := time.Since(c.start)
	first.Wait()
	// A target that died, or stopped answering, gets no end readings:
	// they would only wait out their timeouts.
	if ctx.Err() == nil && !c.isDead() && !c.isHung() {
		var end sync.WaitGroup
		if c.obs.Agent {
			goStep(&end, func() { c.history(ctx, elapsed) })
		}
		goStep(&end, func() { c.census(ctx) })
		goStep(&end, func() { c.contention(ctx, false) })
		goStep(&end, func() { c.mem(ctx) })
		goStep(&end, func() { c.allocs(ctx) })
		goStep(&end, func() { c.leaks(ctx) })
		end.Wait()
	}
	bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.obs.Elapsed = elapsed
	if c.died {
		c.obs.Elapsed = c.diedAt
	}
	return &c.obs, c.missing
}

func (c *collector) isHung() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hung
}

func (c *collector) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.died
}

// poll reads the pools (agent) or the threadcreate total (pprof) every
// pollEvery until ctx ends. The agent's snapshots read on the way are the
// history of last resort, should the process die before the end.
func (c *collector) poll(ctx context.Context) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		c.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-c.stop:
			return
		case <-tick.C:
		}
	}
}

func (c *collector) pollOnce(ctx context.Context) {
	c.readOS(ctx)
	if !c.obs.Agent {
		n, err := c.threadCreate(ctx)
		if err != nil {
			c.failed(ctx, "threadcreate profile", err)
			return
		}
		c.mu.Lock()
		c.obs.ThreadsCreated = append(c.obs.ThreadsCreated, n)
		c.mu.Unlock()
		return
	}
	snap, err := c.t.Agent.Snapshot(ctx)
	if err != nil {
		c.failed(ctx, "snapshot", err)
		return
	}
	pools, err := c.t.Agent.Pools(ctx)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.obs.History); n == 0 || !c.obs.History[n-1].Time.Equal(snap.Time) {
		c.obs.History = append(c.obs.History, snap)
	}
	if err == nil {
		c.obs.PoolPolls = append(c.obs.PoolPolls, PoolPoll{Time: now, Pools: pools})
	}
	c.hung = false
}

// history replaces the polled snapshots by the sampler's own, those of
// the window plus the one before it, so that deltas cover the window.
// The newest snapshot comes first, for the sampling interval: the window
// is then asked for alone, not the whole history.
func (c *collector) history(ctx context.Context, elapsed time.Duration) {
	h, err := c.t.Agent.History(ctx, 1)
	if err != nil {
		c.failed(ctx, "history", err)
		return
	}
	step := time.Duration(h.Interval)
	if step <= 0 {
		step = time.Second
	}
	if h, err = c.t.Agent.History(ctx, int(elapsed/step)+2); err != nil {
		c.failed(ctx, "history", err)
		return
	}
	n := min(int(elapsed/step)+2, len(h.Snapshots))
	snaps := h.Snapshots[len(h.Snapshots)-n:]
	if len(snaps) >= 2 {
		c.mu.Lock()
		c.obs.History = snaps
		c.mu.Unlock()
	}
}

// census takes a goroutine census: the agent's, or a parsed debug=2 dump.
func (c *collector) census(ctx context.Context) {
	var cs Census
	if c.obs.Agent {
		g, err := c.t.Agent.Goroutines(ctx, apiv1.CensusFilter{MaxGroups: maxCensusGroups})
		if err != nil {
			c.failed(ctx, "goroutine census", err)
			return
		}
		cs = Census{Time: g.Census.Time, Total: g.Census.Goroutines, Groups: g.Census.Groups}
	} else {
		body, err := c.t.GoroutineDump(ctx)
		if err != nil {
			c.failed(ctx, "goroutine dump", err)
			return
		}
		gs, err := gdump.Parse(body)
		body.Close()
		if err != nil {
			c.failed(ctx, "goroutine dump", err)
			return
		}
		cs = censusFromDump(time.Now(), gs)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.obs.Censuses = append(c.obs.Censuses, cs)
	slicesSortCensuses(c.obs.Censuses)
}

// midDump takes a census halfway through the window (pprof targets have
// no history, so this is what shows growth is steady).
func (c *collector) midDump(ctx context.Context) {
	t := time.NewTimer(c.window / 2)
	defer t.Stop()
	select {
	case <-t.C:
		c.census(ctx)
	case <-ctx.Done():
	case <-c.stop:
	}
}

func slicesSortCensuses(cs []Census) {
	slices.SortStableFunc(cs, func(a, b Census) int { return a.Time.Compare(b.Time) })
}
